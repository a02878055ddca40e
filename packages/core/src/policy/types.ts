import type { Caller, CallerChannel } from '../caller/caller.js'
import type { Operation } from '../caller/operation.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'

// ---------------------------------------------------------------------------------------------
// Decisions and authorizers
// ---------------------------------------------------------------------------------------------

/**
 * The outcome of one authorization. Every authorizer (the policy engine, Cedar, OPA and the
 * function authorizers) returns this shape.
 *
 * @example
 * ```ts
 * const d: Decision = { decision: 'allow', rule: 'orders-read', reason: 'allowed by rule "orders-read"', audit: [] }
 * ```
 */
export interface Decision {
  /** `allow` or `deny`. */
  readonly decision: 'allow' | 'deny'
  /** The id of the rule that decided, or `null` when a default decided (or the authorizer has no rules). */
  readonly rule: string | null
  /**
   * A human reason, e.g. `denied by rule "no-cross-tenant": caller tenant "acme" differs from self
   * tenant "globex"`. Never contains a token or key.
   */
  readonly reason: string
  /** Ids of the AUDIT rules that matched. They never change the decision. */
  readonly audit: readonly string[]
  /**
   * Set on a deny whose deciding reason is a missing scope: the scopes the closest ALLOW rule
   * required. `toAccessDeniedError` then uses `ERR_SCOPE_MISSING` (HTTP `insufficient_scope`).
   */
  readonly requiredScopes?: readonly string[]
  /** An engine-side decision id to correlate logs (OPA `decision_id`). */
  readonly decisionId?: string
}

/**
 * What an authorizer decides on: who is calling, who we are, and what they want to do.
 *
 * @example
 * ```ts
 * const input: AuthorizationInput = {
 *   caller: callerFromId('spiffe://example.org/ns/shop/sa/web'),
 *   self: SpiffeId.parse('spiffe://example.org/ns/shop/sa/orders'),
 *   operation: { kind: 'http', method: 'GET', path: '/orders/42' },
 * }
 * ```
 */
export interface AuthorizationInput {
  /** The verified caller. */
  readonly caller: Caller
  /** The service's own SPIFFE ID, when known (used by `sameAs: self` boundaries). */
  readonly self: SpiffeId | undefined
  /** The HTTP or gRPC operation. HTTP paths carry no query string. */
  readonly operation: Operation
}

/**
 * One authorization engine behind one method. `verifyCaller` calls it once per request, after
 * authentication. Implementations must fail closed: any doubt is a deny (or a thrown
 * `ERR_AUTHORIZER_UNAVAILABLE`), never an allow.
 *
 * @example
 * ```ts
 * const authorizer: Authorizer = { authorize: ({ caller }) => ({ decision: caller.channel === 'mtls' ? 'allow' : 'deny', rule: null, reason: 'mTLS only', audit: [] }) }
 * ```
 */
export interface Authorizer {
  authorize(input: AuthorizationInput): Decision | Promise<Decision>
}

/**
 * An {@link Authorizer} that always answers synchronously (the policy engine and the function
 * authorizers). Handy in TLS `checkServerIdentity`-style hooks that cannot await.
 *
 * @example
 * ```ts
 * const d = authorizeMemberOf('example.org').authorize(input) // a Decision, not a Promise
 * ```
 */
export interface SyncAuthorizer extends Authorizer {
  authorize(input: AuthorizationInput): Decision
}

// ---------------------------------------------------------------------------------------------
// Policy documents (the YAML / JSON / TS format)
// ---------------------------------------------------------------------------------------------

/**
 * What a rule does when it matches. DENY wins over ALLOW; AUDIT never changes the decision.
 *
 * @example
 * ```ts
 * const action: RuleAction = 'DENY'
 * ```
 */
export type RuleAction = 'ALLOW' | 'DENY' | 'AUDIT'

/**
 * The decision for an operation that no ALLOW rule targets.
 *
 * @example
 * ```ts
 * definePolicy({ defaultAction: 'allow', rules: [] })
 * ```
 */
export type DefaultAction = 'allow' | 'deny'

/**
 * How to read boundary captures (tenant, namespace, env, zone…) out of SPIFFE ID paths. Applied
 * to both the caller's ID and `self`; the first template that matches gives the captures.
 *
 * @example
 * ```ts
 * const identity: IdentitySpec = { templates: ['/tenant/{tenant}/env/{env}/{service}', '/tenant/{tenant}/{service}'] }
 * ```
 */
export type IdentitySpec =
  | { readonly template: string; readonly templates?: undefined }
  | { readonly templates: readonly string[]; readonly template?: undefined }

/**
 * An OIDC request principal pattern; each side takes the Istio string forms (exact, `p*`, `*s`, `*`).
 *
 * @example
 * ```ts
 * const anyone: RequestPrincipalMatch = { iss: 'https://login.example.com', sub: '*' }
 * ```
 */
export interface RequestPrincipalMatch {
  readonly iss: string
  readonly sub: string
}

/**
 * Who a rule applies to. Fields combine with AND, values inside a field with OR; several sources
 * in `from` combine with OR (Istio `Source`).
 *
 * @example
 * ```ts
 * const source: SourceMatch = { trustDomains: ['example.org'], notPrincipals: ['spiffe://example.org/legacy'], channels: ['mtls'] }
 * ```
 */
export interface SourceMatch {
  /**
   * SPIFFE IDs: exact (`spiffe://td/ns/a/sa/b`), `prefix*`, `*suffix`, `*` (any SPIFFE ID) or a
   * path template (`spiffe://td/ns/{namespace}/sa/{*}`, a `*` trust domain for any). The
   * `spiffe://` scheme may be left out, as in Istio (`cluster.local/ns/a/sa/b`).
   */
  readonly principals?: readonly string[]
  readonly notPrincipals?: readonly string[]
  /** Trust domain names, in the same string forms. */
  readonly trustDomains?: readonly string[]
  readonly notTrustDomains?: readonly string[]
  /** OIDC principals as `{ iss, sub }` pairs (never joined strings). Match only `oidc` callers. */
  readonly requestPrincipals?: readonly RequestPrincipalMatch[]
  readonly notRequestPrincipals?: readonly RequestPrincipalMatch[]
  /** How the caller authenticated. */
  readonly channels?: readonly CallerChannel[]
  readonly notChannels?: readonly CallerChannel[]
}

/**
 * An HTTP operation pattern. `paths` take exact, `prefix*`, `*suffix`, `*` or templates with `{*}`
 * (one segment) and `{**}` (zero or more segments, last only).
 *
 * @example
 * ```ts
 * const op: HttpOperationMatch = { methods: ['GET'], paths: ['/orders', '/orders/{*}'], notPaths: ['/orders/internal'] }
 * ```
 */
export interface HttpOperationMatch {
  /** Upper-case methods (`GET`), or `*`. */
  readonly methods?: readonly string[]
  readonly notMethods?: readonly string[]
  readonly paths?: readonly string[]
  readonly notPaths?: readonly string[]
  readonly grpcMethods?: undefined
  readonly notGrpcMethods?: undefined
}

/**
 * A gRPC operation pattern: `/pkg.Service/Method`, `/pkg.Service/*`, or the other string forms.
 *
 * @example
 * ```ts
 * const op: GrpcOperationMatch = { grpcMethods: ['/orders.v1.Orders/*'], notGrpcMethods: ['/orders.v1.Orders/Delete'] }
 * ```
 */
export interface GrpcOperationMatch {
  readonly grpcMethods?: readonly string[]
  readonly notGrpcMethods?: readonly string[]
  readonly methods?: undefined
  readonly notMethods?: undefined
  readonly paths?: undefined
  readonly notPaths?: undefined
}

/**
 * What a rule applies to; several entries in `to` combine with OR. An entry is HTTP or gRPC, never both.
 *
 * @example
 * ```ts
 * const to: OperationMatch[] = [{ methods: ['GET'], paths: ['/orders'] }, { grpcMethods: ['/orders.v1.Orders/Get'] }]
 * ```
 */
export type OperationMatch = HttpOperationMatch | GrpcOperationMatch

/**
 * Required token scopes: all of them, or at least one.
 *
 * @example
 * ```ts
 * const scopes: ScopeRequirement = { allOf: ['orders:read', 'orders:write'] }
 * ```
 */
export type ScopeRequirement = { readonly allOf: readonly string[] } | { readonly anyOf: readonly string[] }

/**
 * A condition on one boundary capture (or on `trustDomain`), compared with a constant or with the
 * same capture of the service's own identity (`sameAs: self`).
 *
 * @example
 * ```ts
 * const boundary: Record<string, BoundaryCondition> = { tenant: { sameAs: 'self' }, env: { in: ['prod', 'staging'] } }
 * ```
 */
export type BoundaryCondition =
  | { readonly sameAs: 'self' }
  | { readonly notSameAs: 'self' }
  | { readonly equals: string }
  | { readonly notEquals: string }
  | { readonly in: readonly string[] }
  | { readonly notIn: readonly string[] }

/**
 * A scalar claim value a condition compares with (strictly: `true` is not `'true'`).
 *
 * @example
 * ```ts
 * const v: ClaimValue = true
 * ```
 */
export type ClaimValue = string | number | boolean

/**
 * A condition on a verified token claim. `claim` is a top-level claim name, or an array for a
 * nested one (`['realm_access', 'roles']`). For array-valued claims, `in`/`equals` hold when any
 * element matches and `notIn`/`notEquals` when none does.
 *
 * @example
 * ```ts
 * const when: ClaimCondition[] = [{ claim: 'azp', in: ['portal'] }, { claim: ['realm_access', 'roles'], equals: 'admin' }]
 * ```
 */
export type ClaimCondition = { readonly claim: string | readonly string[] } & (
  | { readonly equals: ClaimValue }
  | { readonly notEquals: ClaimValue }
  | { readonly in: readonly ClaimValue[] }
  | { readonly notIn: readonly ClaimValue[] }
)

/**
 * One rule. Every part that is present must match (AND); a rule with nothing but an action
 * matches every request.
 *
 * @example
 * ```ts
 * const rule: PolicyRule = { id: 'orders-read', from: [{ trustDomains: ['example.org'] }], to: [{ methods: ['GET'], paths: ['/orders/{**}'] }] }
 * ```
 */
export interface PolicyRule {
  /** A stable id reported in decisions; `rules[<index>]` when absent. */
  readonly id?: string
  readonly description?: string
  /** Default `ALLOW`. */
  readonly action?: RuleAction
  readonly from?: readonly SourceMatch[]
  readonly to?: readonly OperationMatch[]
  readonly scopes?: ScopeRequirement
  /** Boundary conditions keyed by capture name (from `identity`) or `trustDomain`. */
  readonly boundary?: Readonly<Record<string, BoundaryCondition>>
  /** Claim conditions; all must hold. */
  readonly when?: readonly ClaimCondition[]
}

/**
 * A policy document, as written in YAML, JSON or TypeScript (`definePolicy`).
 *
 * @example
 * ```ts
 * const doc: PolicyDocument = { rules: [{ id: 'orders-read', from: [{ trustDomains: ['example.org'] }], to: [{ methods: ['GET'] }] }] }
 * ```
 */
export interface PolicyDocument {
  /** Ignored; lets editors find the JSON Schema. */
  readonly $schema?: string
  /** Format version; only `1` exists. */
  readonly version?: 1
  /** For operations no ALLOW rule targets. Default `deny`. */
  readonly defaultAction?: DefaultAction
  readonly identity?: IdentitySpec
  readonly rules: readonly PolicyRule[]
}

/**
 * A rule as the loaded policy reports it.
 *
 * @example
 * ```ts
 * loadPolicy(text).rules // [{ id: 'orders-read', action: 'ALLOW', index: 0 }, …]
 * ```
 */
export interface PolicyRuleSummary {
  /** The rule's id, or the generated `rules[<index>]`. */
  readonly id: string
  readonly action: RuleAction
  readonly index: number
}

/**
 * A validated, compiled policy (from `loadPolicy`, `loadPolicyFile` or `definePolicy`). Immutable.
 *
 * @example
 * ```ts
 * const policy = loadPolicy(yamlText, { filename: 'policy.yaml' })
 * policy.rules.map((r) => r.id)
 * ```
 */
export interface Policy {
  /** The validated document (deep-frozen copy). */
  readonly document: PolicyDocument
  readonly defaultAction: DefaultAction
  readonly rules: readonly PolicyRuleSummary[]
  /** The file name the policy came from, when known. */
  readonly filename: string | undefined
}

/**
 * Options for `loadPolicy` and `lintPolicy`.
 *
 * @example
 * ```ts
 * loadPolicy(text, { filename: 'policy.yaml' })
 * ```
 */
export interface LoadPolicyOptions {
  /** Used in messages and `details.filename`. */
  filename?: string
}

/**
 * One problem found in a policy document. Errors make `loadPolicy` throw; warnings are only
 * reported by `lintPolicy`.
 *
 * @example
 * ```ts
 * for (const p of lintPolicy(text)) console.log(p.severity, p.code, p.message)
 * ```
 */
export interface PolicyProblem {
  readonly severity: 'error' | 'warning'
  /** A stable kind: `syntax`, `schema`, `unknown-key`, `invalid`, `unreachable-rule`, … */
  readonly code: string
  /** The full message: `rules[2].from[0].principalz: unknown key (line 14, column 9)`. */
  readonly message: string
  /** The JSON path of the offending value, e.g. `rules[2].from[0].principalz` (`''` for the root). */
  readonly path: string
  /** 1-based position in the source text, when known. */
  readonly line?: number
  readonly column?: number
  /** The rule the problem is about, when it is about one. */
  readonly rule?: string
}
