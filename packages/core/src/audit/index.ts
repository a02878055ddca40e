/**
 * Audit: one {@link AuditEvent} per authorization decision (caller identity, channel, scopes,
 * operation, decision, rule, reason, latency, timestamp, and only the token claims you name; never a
 * token, key or certificate), written to a pluggable {@link AuditSink} (a logger, or svidkit's JSON
 * lines file with {@link jsonLinesSink}) and reported to OpenTelemetry when `@opentelemetry/api` is
 * installed (span attributes `svidkit.*`, counter `svidkit.decisions`, histogram
 * `svidkit.decision.duration`). Events read back with {@link parseAuditEvent} and
 * {@link auditEventInput} can be decided again against another policy (`svidkit policy replay`).
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
export type { AuditClaim, AuditEvent, AuditEventOptions, AuditOperation, ClaimPath } from './audit-event.js'
export { createAuditEvent, createAuthenticationFailureEvent } from './audit-event.js'
export { auditEventInput } from './audit-event-input.js'
export type { Auditor, AuditorOptions } from './create-auditor.js'
export { createAuditor } from './create-auditor.js'
export type { JsonLinesSink, JsonLinesSinkOptions, JsonLinesWritable } from './json-lines-sink.js'
export { jsonLinesSink } from './json-lines-sink.js'
export type { DecisionTelemetryOptions, TelemetryAttributeValue, TelemetrySpan } from './otel.js'
export { recordDecisionTelemetry, telemetryNames } from './otel.js'
export { parseAuditEvent } from './parse-audit-event.js'
export type { AuditLogger, AuditSink, LoggerSinkOptions, MemorySink } from './sinks.js'
export { loggerSink, memorySink, noopSink } from './sinks.js'
export { startTimer } from './start-timer.js'
export { withAudit } from './with-audit.js'
