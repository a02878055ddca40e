import { OptionsError, PolicyError } from '../errors/domain-errors.js'
import { createPolicyAuthorizer } from '../policy/create-policy-authorizer.js'
import { definePolicy } from '../policy/define-policy.js'
import type {
  AuthorizationInput,
  Authorizer,
  BoundaryCondition,
  ClaimCondition,
  Decision,
  PolicyRule,
  ScopeRequirement,
  SourceMatch,
  SyncAuthorizer,
} from '../policy/types.js'
import type { CallerChannel } from './caller.js'

/**
 * What one route requires of its caller. Every part given must hold. The forms are the policy
 * engine's (see `@svidkit/core/policy`), so a route requirement means exactly what the same rule in
 * a policy file means.
 *
 * @example
 * ```ts
 * const requirement: RouteRequirement = {
 *   callers: ['spiffe://example.org/ns/{*}/sa/web'],
 *   scopes: ['orders:read'],
 *   boundary: { namespace: { sameAs: 'self' } },
 * }
 * ```
 */
export interface RouteRequirement {
  /** A rule id for decisions and audit; default `route`. */
  id?: string
  /** Allowed caller SPIFFE IDs: exact, `prefix*`, `*suffix`, `*`, or path templates. */
  callers?: readonly string[]
  /** Allowed caller trust domains. */
  trustDomains?: readonly string[]
  /** Allowed channels. */
  channels?: readonly CallerChannel[]
  /** Required scopes: a list means all of them; or `{ anyOf }` / `{ allOf }`. */
  scopes?: readonly string[] | ScopeRequirement
  /** Boundary conditions over identity-template captures (and `trustDomain`), e.g. `{ tenant: { sameAs: 'self' } }`. */
  boundary?: Readonly<Record<string, BoundaryCondition>>
  /** Conditions on verified token claims. */
  when?: readonly ClaimCondition[]
}

/**
 * Compiles a {@link RouteRequirement} into an authorizer (a one-rule default-deny policy). Adapters
 * call it once per route, never per request.
 *
 * @example
 * ```ts
 * const onlyWeb = createRequirement({ callers: ['spiffe://example.org/web'] })
 * await verifier.verifyCaller(credentials, { requirement: onlyWeb })
 * ```
 */
export function createRequirement(
  spec: RouteRequirement,
  options: { identityTemplates?: readonly string[] } = {},
): Authorizer {
  if (typeof spec !== 'object' || spec === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'createRequirement: the requirement must be an object')
  }
  const known = new Set(['id', 'callers', 'trustDomains', 'channels', 'scopes', 'boundary', 'when'])
  for (const key of Object.keys(spec)) {
    if (!known.has(key))
      throw new OptionsError('ERR_OPTIONS_INVALID', `createRequirement: unknown key "${key}"`)
  }
  const source: { -readonly [K in keyof SourceMatch]: SourceMatch[K] } = {}
  if (spec.callers) source.principals = spec.callers
  if (spec.trustDomains) source.trustDomains = spec.trustDomains
  if (spec.channels) source.channels = spec.channels
  const rule: { -readonly [K in keyof PolicyRule]: PolicyRule[K] } = {
    id: spec.id ?? 'route',
    action: 'ALLOW',
  }
  if (Object.keys(source).length > 0) rule.from = [source]
  if (spec.scopes)
    rule.scopes = Array.isArray(spec.scopes) ? { allOf: spec.scopes } : (spec.scopes as ScopeRequirement)
  if (spec.boundary) rule.boundary = spec.boundary
  if (spec.when) rule.when = spec.when
  const templates = options.identityTemplates ?? []
  let inner: SyncAuthorizer
  try {
    inner = createPolicyAuthorizer(
      definePolicy({
        defaultAction: 'deny',
        ...(templates.length > 0 ? { identity: { templates } } : {}),
        rules: [rule],
      }),
    )
  } catch (err) {
    // A requirement is an option of the route: its problems are option errors (500 if ever served),
    // reported with the rule path rewritten to the requirement's own keys.
    if (err instanceof PolicyError) {
      const reason = err.reason.replace(/^rules\[0\]\.(from\[0\]\.)?/, '').replace(/^principals\b/, 'callers')
      throw new OptionsError('ERR_OPTIONS_INVALID', `createRequirement: ${reason}`, { cause: err })
    }
    throw err
  }
  const id = rule.id!
  // The one rule is the requirement: a refusal is reported as this requirement's, not as "the default".
  return Object.freeze({
    authorize: (input: AuthorizationInput): Decision => {
      const d = inner.authorize(input)
      return d.decision === 'deny' && d.rule === null ? { ...d, rule: id } : d
    },
  })
}
