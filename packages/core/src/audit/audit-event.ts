import type { CallerChannel, OidcPrincipal } from '../caller/caller.js'
import type { AuthorizationInput, Decision } from '../policy/types.js'

/**
 * The operation as an audit event records it (no query string, no headers, no body).
 *
 * @example
 * ```ts
 * const op: AuditOperation = { kind: 'http', method: 'GET', path: '/orders/42' }
 * ```
 */
export type AuditOperation =
  | { readonly kind: 'http'; readonly method: string; readonly path: string }
  | { readonly kind: 'grpc'; readonly method: string }
  | { readonly kind: 'connection' }

/**
 * One authorization decision, as sinks receive it. By construction it holds identities, never a
 * token, a key, a certificate or token claims.
 *
 * @example
 * ```ts
 * const event: AuditEvent = createAuditEvent(input, decision, { latencyMs: 0.004 })
 * event.caller // 'spiffe://example.org/ns/shop/sa/web' or { iss, sub }
 * ```
 */
export interface AuditEvent {
  /** ISO 8601 time of the decision. */
  readonly timestamp: string
  /** The caller's SPIFFE ID, or its OIDC `{ iss, sub }`; `null` when authentication failed. */
  readonly caller: string | OidcPrincipal | null
  /** How the caller authenticated; `null` when authentication failed. */
  readonly channel: CallerChannel | null
  /** The service's own SPIFFE ID, when known. */
  readonly self: string | null
  readonly operation: AuditOperation
  readonly decision: 'allow' | 'deny'
  readonly rule: string | null
  readonly reason: string
  /** Ids of matched AUDIT rules. */
  readonly audit: readonly string[]
  /** How long authorization took, in milliseconds (measured by the caller, see `startTimer`). */
  readonly latencyMs: number
  /** The engine's decision id (OPA), when there is one. */
  readonly decisionId?: string
  /** The error code when the request was refused with an error (authentication failures, denials). */
  readonly code?: string
}

/**
 * Options for {@link createAuditEvent}.
 *
 * @example
 * ```ts
 * const options: AuditEventOptions = { latencyMs: elapsed(), timestamp: new Date() }
 * const event = createAuditEvent(input, decision, options)
 * ```
 */
export interface AuditEventOptions {
  /** Milliseconds spent deciding. */
  latencyMs: number
  /** Default: now. */
  timestamp?: Date
}

const MAX_PATH = 2048

// `new Date().toISOString()` costs about 0.5 µs, and a busy service records many decisions per
// millisecond: the text of the current millisecond is kept and reused (it is the same string).
let isoMs = Number.NaN
let isoText = ''
function nowIso(): string {
  const ms = Date.now()
  if (ms !== isoMs) {
    isoText = new Date(ms).toISOString()
    isoMs = ms
  }
  return isoText
}

function auditOperation(op: AuthorizationInput['operation']): AuditOperation {
  if (op.kind === 'http') return { kind: 'http', method: String(op.method), path: cleanPath(op.path) }
  if (op.kind === 'grpc') return { kind: 'grpc', method: String(op.method) }
  return { kind: 'connection' }
}

function cleanPath(path: unknown): string {
  const s = typeof path === 'string' ? path : ''
  const q = s.search(/[?#]/)
  const p = q === -1 ? s : s.slice(0, q)
  return p.length > MAX_PATH ? `${p.slice(0, MAX_PATH)}…` : p
}

/**
 * Builds the audit event for one decision, copying only identities and the operation: the
 * caller's token, certificate and claims are never copied, and an HTTP path loses any query string.
 *
 * @example
 * ```ts
 * const elapsed = startTimer()
 * const decision = await authorizer.authorize(input)
 * sink.write(createAuditEvent(input, decision, { latencyMs: elapsed() }))
 * ```
 */
export function createAuditEvent(
  input: AuthorizationInput,
  decision: Decision,
  options: AuditEventOptions,
): AuditEvent {
  const c = input.caller
  const op = input.operation
  const caller: string | OidcPrincipal = c.spiffeId
    ? c.spiffeId.toString()
    : { iss: String(c.principal?.iss ?? ''), sub: String(c.principal?.sub ?? '') }
  const operation = auditOperation(op)
  const latency = Number(options?.latencyMs)
  return {
    timestamp: options?.timestamp ? options.timestamp.toISOString() : nowIso(),
    caller,
    channel: c.channel,
    self: input.self ? input.self.toString() : null,
    operation,
    decision: decision.decision === 'allow' ? 'allow' : 'deny',
    rule: decision.rule ?? null,
    reason: String(decision.reason),
    audit: [...(decision.audit ?? [])],
    latencyMs: Number.isFinite(latency) && latency >= 0 ? latency : 0,
    ...(decision.decisionId === undefined ? {} : { decisionId: decision.decisionId }),
  }
}

/**
 * Builds the audit event for a request refused before any caller was established (no, malformed or
 * invalid credentials): `caller` and `channel` are `null`, `decision` is `deny`, `rule` is `null`
 * and `reason` is the error message (which never carries a token).
 *
 * @example
 * ```ts
 * sink.write(createAuthenticationFailureEvent({ operation, self, code: err.code, reason: err.message }, { latencyMs: elapsed() }))
 * ```
 */
export function createAuthenticationFailureEvent(
  failure: {
    operation: AuthorizationInput['operation']
    self: AuthorizationInput['self']
    code: string
    reason: string
  },
  options: AuditEventOptions,
): AuditEvent {
  const op = failure.operation
  const latency = Number(options?.latencyMs)
  return {
    timestamp: options?.timestamp ? options.timestamp.toISOString() : nowIso(),
    caller: null,
    channel: null,
    self: failure.self ? failure.self.toString() : null,
    operation: auditOperation(op),
    decision: 'deny',
    rule: null,
    reason: String(failure.reason),
    audit: [],
    latencyMs: Number.isFinite(latency) && latency >= 0 ? latency : 0,
    code: failure.code,
  }
}
