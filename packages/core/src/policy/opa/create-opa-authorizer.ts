import { AccessDeniedError } from '../../errors/domain-errors.js'
import { optionsFailure } from '../../internal/options.js'
import { handlerMethod, normalizeHttpPath } from '../normalize-http-path.js'
import type { AuthorizationInput, Authorizer, Decision } from '../types.js'

/**
 * Options for {@link createOpaAuthorizer}.
 *
 * @example
 * ```ts
 * const options: OpaAuthorizerOptions = {
 *   url: 'http://127.0.0.1:8181', path: 'svidkit/authz/allow', timeoutMs: 200,
 *   headers: { authorization: `Bearer ${opaToken}` }, onUnavailable: 'deny',
 * }
 * const authorizer = createOpaAuthorizer(options)
 * ```
 */
export interface OpaAuthorizerOptions {
  /** OPA's base URL, e.g. `http://127.0.0.1:8181`. */
  url: string | URL
  /** The decision path under `/v1/data/`, e.g. `svidkit/authz/allow` or `svidkit/authz`. */
  path: string
  /** Per-request timeout in milliseconds (`AbortSignal.timeout`). Default 500. */
  timeoutMs?: number
  /** Extra request headers, e.g. an `authorization` header for OPA's own authentication. */
  headers?: Readonly<Record<string, string>>
  /**
   * What to do when OPA cannot answer (network error, timeout, non-200 status, a body that is not
   * a JSON object): `throw` (default) an `AccessDeniedError` with code `ERR_AUTHORIZER_UNAVAILABLE`
   * (HTTP 503, gRPC UNAVAILABLE, so clients may retry), or return a `deny` decision (HTTP 403).
   * Either way the request is refused.
   */
  onUnavailable?: 'throw' | 'deny'
  /** Builds the `input` document; default {@link OpaInput}. */
  input?: (input: AuthorizationInput) => unknown
  /** A `fetch` implementation; default the global one. */
  fetch?: typeof globalThis.fetch
}

/**
 * The default `input` document sent to OPA. No token or certificate is ever included.
 *
 * @example
 * ```ts
 * const input: OpaInput = {
 *   caller: { channel: 'mtls', spiffeId: 'spiffe://example.org/web', trustDomain: 'example.org', scopes: [], captures: {} },
 *   self: 'spiffe://example.org/orders',
 *   operation: { kind: 'http', method: 'GET', path: '/orders/42' },
 * } // sent as `{"input": …}` to POST <url>/v1/data/<path>
 * ```
 */
export interface OpaInput {
  readonly caller: {
    readonly channel: string
    readonly spiffeId?: string
    readonly trustDomain?: string
    readonly principal?: { readonly iss: string; readonly sub: string }
    readonly scopes: readonly string[]
    readonly captures: Readonly<Record<string, string>>
    readonly claims?: Readonly<Record<string, unknown>>
  }
  readonly self: string | null
  readonly operation:
    | { readonly kind: 'http'; readonly method: string; readonly path: string }
    | { readonly kind: 'grpc'; readonly method: string }
    | { readonly kind: 'connection' }
}

/**
 * The OPA authorizer: always asynchronous.
 *
 * @example
 * ```ts
 * const authorizer: OpaAuthorizer = createOpaAuthorizer({ url: 'http://127.0.0.1:8181', path: 'svidkit/authz' })
 * const decision = await authorizer.authorize(input) // always a Promise
 * ```
 */
export interface OpaAuthorizer extends Authorizer {
  authorize(input: AuthorizationInput): Promise<Decision>
}

const NO_AUDIT: readonly string[] = Object.freeze([])

function defaultInput(input: AuthorizationInput, path: string | undefined): OpaInput {
  const c = input.caller
  const op = input.operation
  return {
    caller: {
      channel: c.channel,
      ...(c.spiffeId ? { spiffeId: c.spiffeId.toString(), trustDomain: c.spiffeId.trustDomain.name } : {}),
      ...(c.principal ? { principal: { iss: c.principal.iss, sub: c.principal.sub } } : {}),
      scopes: c.scopes,
      captures: c.captures,
      ...(c.claims ? { claims: c.claims } : {}),
    },
    self: input.self ? input.self.toString() : null,
    operation:
      op.kind === 'http'
        ? { kind: 'http', method: handlerMethod(op.method.toUpperCase(), op.routing), path: path ?? op.path }
        : op.kind === 'grpc'
          ? { kind: 'grpc', method: op.method }
          : { kind: 'connection' },
  }
}

/**
 * An authorizer that asks an OPA server over its REST API: `POST <url>/v1/data/<path>` with
 * `{"input": …}` (see {@link OpaInput}). The result may be a boolean or an object
 * `{ allow: boolean, reason?: string, rule?: string, requiredScopes?: string[] }`; OPA's
 * `decision_id` is kept as `decisionId`.
 *
 * Fails closed: a missing `result` (undefined decision) or any other shape is a deny; when OPA
 * cannot answer, see `onUnavailable` (default: throw `ERR_AUTHORIZER_UNAVAILABLE`). HTTP paths
 * that are not in normal form are denied without asking OPA.
 *
 * @example
 * ```ts
 * const authorizer = createOpaAuthorizer({ url: 'http://127.0.0.1:8181', path: 'svidkit/authz/allow', timeoutMs: 200 })
 * const decision = await authorizer.authorize(input)
 * ```
 */
export function createOpaAuthorizer(options: OpaAuthorizerOptions): OpaAuthorizer {
  const bad = optionsFailure('createOpaAuthorizer')
  if (!options || typeof options !== 'object') bad('options must be an object')
  let base: URL
  try {
    base = new URL(String(options.url))
  } catch {
    return bad('"url" must be an absolute URL')
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') bad('"url" must use http or https')
  if (typeof options.path !== 'string') bad('"path" must be a string such as "svidkit/authz/allow"')
  const decisionPath = options.path.replace(/^\/+|\/+$/g, '')
  if (decisionPath === '' || decisionPath.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    bad('"path" must be a non-empty decision path such as "svidkit/authz/allow"')
  }
  const timeoutMs = options.timeoutMs ?? 500
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) bad('"timeoutMs" must be a positive number')
  const onUnavailable = options.onUnavailable ?? 'throw'
  if (onUnavailable !== 'throw' && onUnavailable !== 'deny') bad('"onUnavailable" must be "throw" or "deny"')
  const doFetch = options.fetch ?? globalThis.fetch
  if (typeof doFetch !== 'function') bad('no fetch implementation available')
  if (options.input !== undefined && typeof options.input !== 'function') bad('"input" must be a function')
  const endpoint = new URL(
    `v1/data/${decisionPath.split('/').map(encodeURIComponent).join('/')}`,
    base.href.endsWith('/') ? base : `${base.href}/`,
  )
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...options.headers }
  const label = `OPA decision "${decisionPath}"`

  const unavailable = (why: string, cause?: unknown): Decision => {
    if (onUnavailable === 'throw') {
      throw new AccessDeniedError('ERR_AUTHORIZER_UNAVAILABLE', `${label} is unavailable: ${why}`, {
        cause,
        details: { engine: 'opa' },
      })
    }
    return {
      decision: 'deny',
      rule: null,
      reason: `${label} is unavailable (${why}): failing closed`,
      audit: NO_AUDIT,
    }
  }

  async function authorize(input: AuthorizationInput): Promise<Decision> {
    let normalizedPath: string | undefined
    if (input?.operation?.kind === 'http') {
      const n = normalizeHttpPath(input.operation.path, input.operation.routing)
      if (!n.normal) {
        return { decision: 'deny', rule: null, reason: `${n.problem}: default deny`, audit: NO_AUDIT }
      }
      normalizedPath = n.path
    }
    const body = JSON.stringify({
      input: options.input ? options.input(input) : defaultInput(input, normalizedPath),
    })
    let status: number
    let text: string
    try {
      const res = await doFetch(endpoint, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      })
      status = res.status
      text = await res.text()
    } catch (err) {
      const name = (err as { name?: string })?.name
      return unavailable(
        name === 'TimeoutError' || name === 'AbortError'
          ? `no answer within ${timeoutMs} ms`
          : 'request failed',
        err,
      )
    }
    if (status !== 200) return unavailable(`HTTP ${status}`)
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (err) {
      return unavailable('response is not JSON', err)
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      return unavailable('response is not a JSON object')
    const { result, decision_id } = doc as { result?: unknown; decision_id?: unknown }
    const decisionId = typeof decision_id === 'string' ? { decisionId: decision_id } : {}
    const make = (
      allow: boolean,
      rule: string | null,
      reason: string,
      requiredScopes?: string[],
    ): Decision => ({
      decision: allow ? 'allow' : 'deny',
      rule,
      reason,
      audit: NO_AUDIT,
      ...(requiredScopes && requiredScopes.length > 0 && !allow ? { requiredScopes } : {}),
      ...decisionId,
    })
    if (result === undefined) return make(false, null, `${label} is undefined: default deny`)
    if (typeof result === 'boolean') return make(result, null, `${result ? 'allowed' : 'denied'} by ${label}`)
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as { allow?: unknown }).allow === 'boolean'
    ) {
      const r = result as { allow: boolean; reason?: unknown; rule?: unknown; requiredScopes?: unknown }
      const rule = typeof r.rule === 'string' ? r.rule : null
      const reason =
        typeof r.reason === 'string' && r.reason !== ''
          ? `${r.allow ? 'allowed' : 'denied'} by ${label}: ${r.reason.slice(0, 500)}`
          : `${r.allow ? 'allowed' : 'denied'} by ${label}`
      const scopes = Array.isArray(r.requiredScopes)
        ? r.requiredScopes.filter((s): s is string => typeof s === 'string')
        : undefined
      return make(r.allow, rule, reason, scopes)
    }
    return make(false, null, `${label} returned neither a boolean nor { allow: boolean }: default deny`)
  }
  return Object.freeze({ authorize })
}
