import type { FastifyBaseLogger } from 'fastify'

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const

/**
 * `fastify.log` as the default audit logger, or `undefined` when it is the logger Fastify makes for
 * `logger: false` (abstract-logging: every level the same no-op function, inherited). That one drops
 * every line, so svidkit would build an audit event per request for nobody.
 *
 * @internal
 */
export function auditLoggerOf(log: FastifyBaseLogger): FastifyBaseLogger | undefined {
  const proto: unknown = Object.getPrototypeOf(log)
  if (proto === null || typeof proto !== 'object') return log
  const first = (proto as Record<string, unknown>).fatal
  const nullLogger =
    typeof first === 'function' &&
    first.length === 0 &&
    Object.keys(proto).length === LEVELS.length &&
    LEVELS.every(
      (level) => Object.hasOwn(proto, level) && (proto as Record<string, unknown>)[level] === first,
    ) &&
    LEVELS.every((level) => !Object.hasOwn(log, level))
  return nullLogger ? undefined : log
}
