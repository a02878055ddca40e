import { OptionsError } from '../errors/domain-errors.js'
import type { AuthorizationInput, Decision } from '../policy/types.js'
import {
  type AuditEvent,
  type ClaimPath,
  createAuditEvent,
  createAuthenticationFailureEvent,
} from './audit-event.js'
import { recordDecisionTelemetry, telemetryIsListening } from './otel.js'
import { type AuditLogger, type AuditSink, loggerSink, noopSink } from './sinks.js'

/**
 * Options for {@link createAuditor}.
 *
 * @example
 * ```ts
 * const options: AuditorOptions = { sink: memorySink(), telemetry: false, onError: (err) => console.error(err) }
 * const auditor = createAuditor(options)
 * ```
 */
export interface AuditorOptions {
  /** Where events go. Takes precedence over `logger`. */
  sink?: AuditSink
  /** A pino-compatible logger, wrapped with `loggerSink`. With neither `sink` nor `logger`, events only reach telemetry. */
  logger?: AuditLogger
  /** Report to OpenTelemetry (a no-op when `@opentelemetry/api` is absent). Default `true`. */
  telemetry?: boolean
  /** Called when the sink throws; the error is otherwise swallowed. */
  onError?: (error: unknown) => void
  /**
   * Token claims to record in each event (`AuditEvent.claims`), so that a replay can decide claim
   * conditions again: the paths your policies' `when` conditions read, e.g.
   * `policyClaimPaths(policy)`. Default: none (no claim is ever recorded).
   */
  claims?: readonly ClaimPath[]
}

/**
 * Records decisions to a sink and to OpenTelemetry.
 *
 * @example
 * ```ts
 * const auditor: Auditor = createAuditor({ logger: app.log })
 * auditor.record(input, decision, elapsed())
 * auditor.recordFailure({ operation: input.operation, self: input.self, code: err.code, reason: err.message }, elapsed())
 * ```
 */
export interface Auditor {
  /**
   * Whether a decision recorded now would be read by anyone (a sink, or an OpenTelemetry SDK or span).
   * Callers may skip work that only feeds the event, such as timing it. Missing: assume it would.
   */
  recording?(): boolean
  /**
   * Builds the event, writes it and reports it; never throws. Returns the event, or `undefined` when
   * nothing would read it (no sink, and no OpenTelemetry span or SDK): then it is not even built.
   */
  record(input: AuthorizationInput, decision: Decision, latencyMs: number): AuditEvent | undefined
  /** Records a request refused before a caller was established (see `createAuthenticationFailureEvent`). */
  recordFailure(
    failure: {
      operation: AuthorizationInput['operation']
      self: AuthorizationInput['self']
      code: string
      reason: string
    },
    latencyMs: number,
  ): AuditEvent | undefined
}

function validateClaimPaths(paths: readonly ClaimPath[] | undefined): readonly ClaimPath[] | undefined {
  if (paths === undefined) return undefined
  const bad = (): never => {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      'createAuditor: "claims" must be a list of claim names or non-empty lists of names',
    )
  }
  if (!Array.isArray(paths)) bad()
  const out = paths.map((p: ClaimPath) => {
    if (typeof p === 'string' && p !== '') return p
    if (Array.isArray(p) && p.length > 0 && p.every((k) => typeof k === 'string' && k !== '')) {
      return Object.freeze([...p])
    }
    return bad()
  })
  return out.length > 0 ? Object.freeze(out) : undefined
}

/**
 * Creates an auditor: one call per decision writes an {@link AuditEvent} to the sink (default: a
 * `loggerSink` when `logger` is given, else nothing) and to OpenTelemetry.
 *
 * @example
 * ```ts
 * const auditor = createAuditor({ logger: fastify.log })
 * const elapsed = startTimer()
 * const decision = await authorizer.authorize(input)
 * auditor.record(input, decision, elapsed())
 * ```
 */
export function createAuditor(options: AuditorOptions = {}): Auditor {
  if (options.sink !== undefined && typeof options.sink?.write !== 'function') {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'createAuditor: "sink" must have a write(event) method')
  }
  const sink = options.sink ?? (options.logger ? loggerSink(options.logger) : noopSink)
  const telemetry = options.telemetry !== false
  const onError = options.onError
  const claims = validateClaimPaths(options.claims)
  // A sink that can tell it would drop the event (a logger below its level) is asked per decision.
  const sinkOn: () => boolean =
    sink === noopSink ? () => false : typeof sink.enabled === 'function' ? () => enabled(sink) : () => true
  const emit = (event: AuditEvent): AuditEvent => {
    try {
      if (sinkOn()) sink.write(event)
    } catch (err) {
      try {
        onError?.(err)
      } catch {
        // ignore
      }
    }
    if (telemetry) recordDecisionTelemetry(event)
    return event
  }
  // Lazy: with no sink and no telemetry reader, a decision costs nothing here.
  const silent = (): boolean => !sinkOn() && (!telemetry || !telemetryIsListening())
  return Object.freeze({
    recording: (): boolean => !silent(),
    record: (input: AuthorizationInput, decision: Decision, latencyMs: number): AuditEvent | undefined =>
      silent()
        ? undefined
        : emit(createAuditEvent(input, decision, claims ? { latencyMs, claims } : { latencyMs })),
    recordFailure: (
      failure: {
        operation: AuthorizationInput['operation']
        self: AuthorizationInput['self']
        code: string
        reason: string
      },
      latencyMs: number,
    ): AuditEvent | undefined =>
      silent() ? undefined : emit(createAuthenticationFailureEvent(failure, { latencyMs })),
  })
}

/** A sink's own answer; one that throws is written to (an audit event is never lost to a broken check). */
function enabled(sink: AuditSink): boolean {
  try {
    return sink.enabled?.() !== false
  } catch {
    return true
  }
}
