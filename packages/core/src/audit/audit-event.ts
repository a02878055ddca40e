import type { CallerChannel, OidcPrincipal } from '../caller/caller.js'
import type { HttpRouting } from '../caller/http-routing.js'
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
  | {
      readonly kind: 'http'
      readonly method: string
      readonly path: string
      /** The route template, when the router had chosen one. */
      readonly route?: string
      /** How the router matched paths, when the adapter said (so that a replay decides the same way). */
      readonly routing?: HttpRouting
    }
  | { readonly kind: 'grpc'; readonly method: string }
  | { readonly kind: 'connection' }

/**
 * A claim path: a top-level claim name, or the keys down to a nested claim
 * (`['realm_access', 'roles']`), as policy `when` conditions name them.
 *
 * @example
 * ```ts
 * const paths: ClaimPath[] = ['azp', ['realm_access', 'roles']]
 * createAuditor({ sink, claims: paths })
 * ```
 */
export type ClaimPath = string | readonly string[]

/**
 * One recorded claim of an audit event: the path, and the token's value there when it has one that
 * a policy can compare (a string, number or boolean, or a list of them). No `value` means the token
 * had no such claim, or one no policy condition can match.
 *
 * @example
 * ```ts
 * const claim: AuditClaim = { path: ['realm_access', 'roles'], value: ['admin'] }
 * const absent: AuditClaim = { path: ['azp'] }
 * ```
 */
export interface AuditClaim {
  readonly path: readonly string[]
  readonly value?: string | number | boolean | readonly (string | number | boolean)[]
}

/**
 * One authorization decision, as sinks receive it. By construction it holds identities, scopes and
 * the operation, never a token, a key or a certificate; of the token's claims it holds only the
 * ones the auditor was told to record (`AuditorOptions.claims`), so that `svidkit policy replay`
 * can decide the same request again against another policy.
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
  /** The caller's token scopes (`[]` for certificate channels and failed authentications). */
  readonly scopes: readonly string[]
  /**
   * The claims named by `AuditorOptions.claims`, one entry per path (with no `value` when the token
   * lacks it), for token callers (`jwt`, `oidc`). Absent when no claim paths are configured or the
   * caller authenticated with a certificate.
   */
  readonly claims?: readonly AuditClaim[]
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
  /**
   * Claims to record for token callers (see {@link AuditEvent.claims}): list the claims your
   * policies' `when` conditions read (`policyClaimPaths(policy)`). Default: none. Strings longer
   * than 256 characters and lists longer than 32 items are left out (no `value`).
   */
  claims?: readonly ClaimPath[]
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
  if (op.kind === 'http') {
    const http: { kind: 'http'; method: string; path: string; route?: string; routing?: HttpRouting } = {
      kind: 'http',
      method: String(op.method),
      path: cleanPath(op.path),
    }
    if (typeof op.route === 'string') http.route = cleanPath(op.route)
    if (op.routing) http.routing = op.routing
    return http
  }
  if (op.kind === 'grpc') return { kind: 'grpc', method: String(op.method) }
  return { kind: 'connection' }
}

const MAX_CLAIM_STRING = 256
const MAX_CLAIM_ITEMS = 32
const NO_SCOPES: readonly string[] = Object.freeze([])

function claimScalar(v: unknown): v is string | number | boolean {
  return (
    (typeof v === 'string' && v.length <= MAX_CLAIM_STRING) ||
    (typeof v === 'number' && Number.isFinite(v)) ||
    typeof v === 'boolean'
  )
}

/** The configured claims of a token caller, each with its value when it is one a policy can compare. */
function recordClaims(
  claims: Readonly<Record<string, unknown>> | undefined,
  paths: readonly ClaimPath[],
): AuditClaim[] {
  return paths.map((p) => {
    const path = typeof p === 'string' ? [p] : [...p]
    let v: unknown = claims
    for (const k of path) {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, k)) {
        v = undefined
        break
      }
      v = (v as Record<string, unknown>)[k]
    }
    if (claimScalar(v)) return { path, value: v }
    if (Array.isArray(v) && v.length <= MAX_CLAIM_ITEMS && v.every(claimScalar))
      return { path, value: [...v] }
    return { path }
  })
}

function scopesOf(scopes: readonly string[] | undefined): readonly string[] {
  if (!Array.isArray(scopes) || scopes.length === 0) return NO_SCOPES
  return Object.isFrozen(scopes) ? scopes : Object.freeze(scopes.map(String))
}

function cleanPath(path: unknown): string {
  const s = typeof path === 'string' ? path : ''
  // Adapters pass paths without a query: the common case is checked without a regular expression.
  if (s.length <= MAX_PATH && s.indexOf('?') === -1 && s.indexOf('#') === -1) return s
  const q = s.search(/[?#]/)
  const p = q === -1 ? s : s.slice(0, q)
  return p.length > MAX_PATH ? `${p.slice(0, MAX_PATH)}…` : p
}

/**
 * Builds the audit event for one decision, copying only identities, scopes and the operation: the
 * caller's token and certificate are never copied, of its claims only those named in
 * `options.claims`, and an HTTP path loses any query string.
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
  const paths = options?.claims
  const token = c.channel === 'jwt' || c.channel === 'oidc'
  return {
    timestamp: options?.timestamp ? options.timestamp.toISOString() : nowIso(),
    caller,
    channel: c.channel,
    scopes: scopesOf(c.scopes),
    ...(token && paths !== undefined && paths.length > 0 ? { claims: recordClaims(c.claims, paths) } : {}),
    self: input.self ? input.self.toString() : null,
    operation,
    decision: decision.decision === 'allow' ? 'allow' : 'deny',
    rule: decision.rule ?? null,
    reason: String(decision.reason),
    // A decision's list may be shared (the decision cache freezes it): kept when frozen, else copied.
    audit:
      decision.audit !== undefined && Object.isFrozen(decision.audit)
        ? decision.audit
        : [...(decision.audit ?? [])],
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
    scopes: NO_SCOPES,
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
