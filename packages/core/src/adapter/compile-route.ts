import type { CallerChannel } from '../caller/caller.js'
import { PolicyError } from '../errors/domain-errors.js'
import { optionsFailure } from '../internal/options.js'
import type { CallerVerifier, VerifyCallerOptions } from '../pipeline/caller-verifier.js'
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
} from '../policy/types.js'
import { PathTemplate } from '../spiffe-id/path-template.js'

/**
 * What one route asks of its caller: whether it authenticates at all (`public`), whether a caller
 * is optional, and the conditions a caller must meet. Every condition given must hold, and each
 * means exactly what the same condition of a policy rule means (see `@svidkit/core/policy`).
 * Fastify's `config.svid`, Express's `requireCaller()`, Nest's `@RequireCaller()` and gRPC's
 * per-method settings all take this one shape.
 *
 * @example
 * ```ts
 * const orders: RouteRequirement = { callers: ['spiffe://example.org/ns/{*}/sa/web'], scopes: ['orders:read'] }
 * const tenant: RouteRequirement = { boundary: { tenant: { sameAs: 'self' } } }
 * const health: RouteRequirement = { public: true }
 * ```
 */
export interface RouteRequirement {
  /** No authentication at all: credentials are not even looked at. Cannot have conditions. */
  public?: boolean
  /** A caller when credentials are present (invalid ones are still refused), none otherwise. */
  optional?: boolean
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
 * How a route authenticates: `required` (401 without credentials), `optional`, or `none` (public).
 *
 * @example
 * ```ts
 * const mode: RouteMode = compileRoute({ public: true }, verifier).mode // 'none'
 * ```
 */
export type RouteMode = 'required' | 'optional' | 'none'

const ROUTE_MODES: readonly unknown[] = ['required', 'optional', 'none'] satisfies RouteMode[]

/**
 * An adapter's `defaultMode` option, validated now: `undefined` is `required`; anything but
 * `required`, `optional` or `none` throws `OptionsError` `ERR_OPTIONS_INVALID` (`<what>: defaultMode
 * must be …`). Every adapter reads the option through this one check.
 *
 * @example
 * ```ts
 * import { routeModeOf } from '@svidkit/core/adapter'
 * const defaultMode = routeModeOf(options.defaultMode, '@svidkit/fastify') // 'required' when not given
 * ```
 */
export function routeModeOf(value: unknown, what = 'route'): RouteMode {
  if (value === undefined) return 'required'
  if (!ROUTE_MODES.includes(value))
    optionsFailure(what)('defaultMode must be "required", "optional" or "none"')
  return value as RouteMode
}

/**
 * A compiled {@link RouteRequirement}: its mode, its conditions as an authorizer, and the options to
 * pass to `verifyCaller`.
 *
 * @example
 * ```ts
 * const route: CompiledRoute = compileRoute({ scopes: ['orders:read'] }, verifier)
 * if (route.mode !== 'none') await verifier.verifyCaller(credentials, route.verify)
 * ```
 */
export interface CompiledRoute {
  readonly mode: RouteMode
  /** The route's conditions (`undefined` when it has none). */
  readonly requirement: Authorizer | undefined
  readonly verify: VerifyCallerOptions
}

const KEYS = new Set([
  'public',
  'optional',
  'id',
  'callers',
  'trustDomains',
  'channels',
  'scopes',
  'boundary',
  'when',
])

/**
 * Compiles a route's requirement once, when the route is registered, against `verifier` (whose
 * identity templates give boundary captures): `public` → mode `none`; `optional` → `optional`; a
 * route with conditions needs a caller unless it says `optional: true`; otherwise `defaultMode`
 * (default `required`). Throws `OptionsError` (`ERR_OPTIONS_INVALID`, prefixed with `what`) for an
 * invalid requirement, including a boundary key the verifier's templates do not capture.
 *
 * @example
 * ```ts
 * import { compileRoute } from '@svidkit/core/adapter'
 * const route = compileRoute({ boundary: { tenant: { sameAs: 'self' } } }, verifier, { what: 'config.svid' })
 * const { caller } = await verifier.verifyCaller(credentials, route.verify)
 * ```
 */
export function compileRoute(
  spec: RouteRequirement | undefined,
  verifier: Pick<CallerVerifier, 'identityTemplates'>,
  options: { defaultMode?: RouteMode; what?: string } = {},
): CompiledRoute {
  const what = options.what ?? 'route'
  return compile(spec, verifier.identityTemplates, routeModeOf(options.defaultMode, what), what)
}

/**
 * Validates a {@link RouteRequirement} now, before the verifier that will compile it (and so its
 * identity templates) is known: for per-route helpers created at module load, such as Express's
 * `requireCaller()` or a Nest decorator. Everything is checked as `compileRoute` checks it, except
 * whether the verifier's identity templates capture each boundary key.
 *
 * @example
 * ```ts
 * validateRoute({ boundary: { tenant: { sameAs: 'self' } } }) // ok: templates come later
 * validateRoute({ scopes: 'orders:read' } as never)           // throws ERR_OPTIONS_INVALID
 * ```
 */
export function validateRoute(spec: RouteRequirement, what = 'route'): void {
  const boundary = typeof spec === 'object' && spec !== null ? spec.boundary : undefined
  const keys =
    typeof boundary === 'object' && boundary !== null && !Array.isArray(boundary)
      ? Object.keys(boundary).filter((k) => k !== 'trustDomain')
      : []
  // A stand-in template that captures exactly the boundary keys, so the rest is checked in full (and
  // a key that is no valid capture name is refused by the one template model).
  let templates: string[] = []
  if (keys.length > 0) {
    const template = `/${keys.map((k) => `{${k}}`).join('/')}`
    try {
      PathTemplate.parse(template)
    } catch (err) {
      optionsFailure(what)(
        `boundary keys must be capture names (${err instanceof Error ? err.message : err})`,
      )
    }
    templates = [template]
  }
  compile(spec, templates, 'required', what)
}

function compile(
  spec: RouteRequirement | undefined,
  identityTemplates: readonly string[],
  defaultMode: RouteMode,
  what: string,
): CompiledRoute {
  const bad = optionsFailure(what)
  if (spec === undefined)
    return { mode: defaultMode, requirement: undefined, verify: { optional: defaultMode === 'optional' } }
  if (typeof spec !== 'object' || spec === null) bad('the route requirement must be an object')
  for (const key of Object.keys(spec)) if (!KEYS.has(key)) bad(`unknown key "${key}"`)
  const { public: isPublic, optional, ...conditions } = spec
  if (isPublic !== undefined && typeof isPublic !== 'boolean') bad('"public" must be a boolean')
  if (optional !== undefined && typeof optional !== 'boolean') bad('"optional" must be a boolean')
  if (isPublic && optional) bad('a route cannot be both public and optional')
  const hasConditions = Object.keys(conditions).length > 0
  if (isPublic && hasConditions) bad('a public route cannot also have conditions')
  const mode: RouteMode = isPublic
    ? 'none'
    : optional
      ? 'optional'
      : hasConditions || optional === false
        ? 'required'
        : defaultMode
  const requirement = hasConditions ? conditionsAuthorizer(conditions, identityTemplates, what) : undefined
  return { mode, requirement, verify: { optional: mode === 'optional', requirement } }
}

/** The route's conditions as a one-rule policy, so they mean what a policy rule means. */
function conditionsAuthorizer(
  spec: Omit<RouteRequirement, 'public' | 'optional'>,
  identityTemplates: readonly string[],
  what: string,
): Authorizer {
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
  let inner: Authorizer
  try {
    inner = createPolicyAuthorizer(
      definePolicy({
        defaultAction: 'deny',
        ...(identityTemplates.length > 0 ? { identity: { templates: [...identityTemplates] } } : {}),
        rules: [rule],
      }),
    )
  } catch (err) {
    // A requirement is an option of the route: its problems are option errors (500 if ever served),
    // reported with the rule path rewritten to the requirement's own keys.
    if (err instanceof PolicyError) {
      const reason = err.reason.replace(/^rules\[0\]\.(from\[0\]\.)?/, '').replace(/^principals\b/, 'callers')
      optionsFailure(what)(reason, err)
    }
    throw err
  }
  const id = rule.id!
  // The one rule is the requirement: a refusal is reported as this requirement's, not as "the default".
  return Object.freeze({
    authorize: (input: AuthorizationInput): Decision | Promise<Decision> => {
      const d = inner.authorize(input) as Decision
      return d.decision === 'deny' && d.rule === null ? { ...d, rule: id } : d
    },
  })
}
