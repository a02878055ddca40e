import { OptionsError } from '../errors/domain-errors.js'
import type { AuditEvent } from './audit-event.js'

/**
 * Where audit events go. One method; it should not throw (the auditor swallows errors anyway, so a
 * broken sink never breaks a request).
 *
 * @example
 * ```ts
 * const sink: AuditSink = { write: (event) => queue.push(event) }
 * ```
 */
export interface AuditSink {
  write(event: AuditEvent): void
  /**
   * Whether a write now would go anywhere (a logger below its level would drop it). When it says
   * `false` and no telemetry reader listens either, the auditor builds no event. Missing: it would.
   */
  enabled?(): boolean
}

/**
 * A pino-compatible logger: anything with `info(obj, msg)` and `warn(obj, msg)` (pino, bunyan-ish, Fastify's `log`).
 *
 * @example
 * ```ts
 * const logger: AuditLogger = { info: (obj, msg) => console.log(msg, obj), warn: (obj, msg) => console.warn(msg, obj) }
 * const sink = loggerSink(logger)
 * ```
 */
export interface AuditLogger {
  info(obj: object, msg?: string): unknown
  warn(obj: object, msg?: string): unknown
  /** pino's level check: with it, events below the logger's level are not even built. */
  isLevelEnabled?(level: string): boolean
}

/**
 * Options for {@link loggerSink}.
 *
 * @example
 * ```ts
 * const options: LoggerSinkOptions = { allowLevel: 'info', denyLevel: 'warn', message: 'authz decision' }
 * const auditor = createAuditor({ sink: loggerSink(app.log, options) })
 * ```
 */
export interface LoggerSinkOptions {
  /** Level for allowed requests. Default `info`. */
  allowLevel?: 'info' | 'warn'
  /** Level for denied requests. Default `warn`. */
  denyLevel?: 'info' | 'warn'
  /** The log message. Default `svidkit authorization allow` / `… deny`. */
  message?: string
}

/**
 * A sink that logs each event as a structured object through a pino-compatible logger: allows at
 * `info`, denies at `warn`.
 *
 * @example
 * ```ts
 * import pino from 'pino'
 * const auditor = createAuditor({ sink: loggerSink(pino()) })
 * ```
 */
export function loggerSink(logger: AuditLogger, options: LoggerSinkOptions = {}): AuditSink {
  if (!logger || typeof logger.info !== 'function' || typeof logger.warn !== 'function') {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      'loggerSink: expected a logger with info(obj, msg) and warn(obj, msg)',
    )
  }
  const allowLevel = options.allowLevel ?? 'info'
  const denyLevel = options.denyLevel ?? 'warn'
  const write = (event: AuditEvent): void => {
    const level = event.decision === 'allow' ? allowLevel : denyLevel
    logger[level](event, options.message ?? `svidkit authorization ${event.decision}`)
  }
  // Read per call: a logger's level may change at run time.
  return typeof logger.isLevelEnabled === 'function'
    ? { write, enabled: () => logger.isLevelEnabled!(allowLevel) || logger.isLevelEnabled!(denyLevel) }
    : { write }
}

/**
 * A sink that drops every event.
 *
 * @example
 * ```ts
 * const auditor = createAuditor({ sink: noopSink })
 * ```
 */
export const noopSink: AuditSink = Object.freeze({ write: () => {} })

/**
 * A sink that keeps events in memory, for tests.
 *
 * @example
 * ```ts
 * const sink: MemorySink = memorySink()
 * createAuditor({ sink, telemetry: false }).record(input, decision, 0.1)
 * sink.events.length // 1
 * sink.clear()
 * ```
 */
export interface MemorySink extends AuditSink {
  /** Events in the order written. */
  readonly events: AuditEvent[]
  /** Forgets every event. */
  clear(): void
}

/**
 * A sink that keeps events in an array, for tests.
 *
 * @example
 * ```ts
 * const sink = memorySink()
 * const auditor = createAuditor({ sink, telemetry: false })
 * // … after a request:
 * expect(sink.events[0]?.decision).toBe('deny')
 * ```
 */
export function memorySink(): MemorySink {
  const events: AuditEvent[] = []
  return {
    events,
    write(event) {
      events.push(event)
    },
    clear() {
      events.length = 0
    },
  }
}
