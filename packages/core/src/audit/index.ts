/**
 * Audit: one {@link AuditEvent} per authorization decision (caller identity, channel, operation,
 * decision, rule, reason, latency, timestamp; never a token, key, certificate or claims), written to
 * a pluggable {@link AuditSink} and reported to OpenTelemetry when `@opentelemetry/api` is
 * installed (span attributes `svidkit.*`, counter `svidkit.decisions`, histogram
 * `svidkit.decision.duration`).
 *
 * @example
 * ```ts
 * import { createAuditor, loggerSink, startTimer, withAudit } from '@svidkit/core/audit'
 * import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
 *
 * // Either wrap an authorizer…
 * const authorizer = withAudit(createPolicyAuthorizer(loadPolicyFile('policy.yaml')), { logger: app.log })
 *
 * // …or record by hand.
 * const auditor = createAuditor({ sink: loggerSink(app.log) })
 * const elapsed = startTimer()
 * const decision = await otherAuthorizer.authorize(input)
 * auditor.record(input, decision, elapsed())
 * ```
 * @module
 */
export type { AuditEvent, AuditEventOptions, AuditOperation } from './audit-event.js'
export { createAuditEvent, createAuthenticationFailureEvent } from './audit-event.js'
export type { Auditor, AuditorOptions } from './create-auditor.js'
export { createAuditor } from './create-auditor.js'
export type { DecisionTelemetryOptions, TelemetryAttributeValue, TelemetrySpan } from './otel.js'
export { recordDecisionTelemetry, telemetryNames } from './otel.js'
export type { AuditLogger, AuditSink, LoggerSinkOptions, MemorySink } from './sinks.js'
export { loggerSink, memorySink, noopSink } from './sinks.js'
export { startTimer } from './start-timer.js'
export { withAudit } from './with-audit.js'
