import { optionsFailure } from '../internal/options.js'
import type { Authorizer } from '../policy/types.js'
import type { VerifyCallerOptions } from './create-caller-verifier.js'
import type { RouteRequirement } from './create-requirement.js'

/**
 * How a route authenticates: `required` (401 without credentials), `optional`, or `none` (public).
 *
 * @example
 * ```ts
 * const mode: RouteAuthMode = spec.public ? 'none' : 'required'
 * ```
 */
export type RouteAuthMode = 'required' | 'optional' | 'none'

/**
 * What a route asks of its caller: a {@link RouteRequirement} plus `public` (no authentication at
 * all) or `optional` (a caller when credentials are present, none otherwise). The shape of Fastify's
 * `config.svid`, and what any adapter's per-route settings compile to.
 *
 * @example
 * ```ts
 * const route: RouteAuthSpec = { callers: ['spiffe://example.org/web'], scopes: ['orders:read'] }
 * const health: RouteAuthSpec = { public: true }
 * ```
 */
export interface RouteAuthSpec extends RouteRequirement {
  public?: boolean
  optional?: boolean
}

/**
 * A compiled {@link RouteAuthSpec}: the mode, and the options to pass to `verifyCaller`.
 *
 * @example
 * ```ts
 * const route: RouteAuth = compileRouteAuth({ optional: true }, { defaultMode: 'required', requirement: verifier.requirement })
 * route.mode // 'optional'
 * ```
 */
export interface RouteAuth {
  readonly mode: RouteAuthMode
  readonly verify: VerifyCallerOptions
}

/**
 * Compiles a route's auth settings once (when the route is registered): `public` → mode `none`;
 * `optional` → `optional`; a route with requirements needs a caller unless it says `optional: true`;
 * otherwise the adapter's default mode. A public route cannot also be optional or have requirements.
 * Throws `OptionsError` for invalid settings.
 *
 * @example
 * ```ts
 * const route = compileRouteAuth(spec, { defaultMode: 'required', requirement: (r) => verifier.requirement(r) })
 * if (route.mode !== 'none') await verifier.verifyCaller(credentials, route.verify)
 * ```
 */
export function compileRouteAuth(
  spec: RouteAuthSpec | undefined,
  options: { defaultMode: RouteAuthMode; requirement: (r: RouteRequirement) => Authorizer; what?: string },
): RouteAuth {
  const what = options.what ?? 'route'
  const bad = optionsFailure(`${what}`)
  if (spec === undefined)
    return { mode: options.defaultMode, verify: { optional: options.defaultMode === 'optional' } }
  if (typeof spec !== 'object' || spec === null) bad('the route settings must be an object')
  const { public: isPublic, optional, ...requirement } = spec
  if (isPublic !== undefined && typeof isPublic !== 'boolean') bad('"public" must be a boolean')
  if (optional !== undefined && typeof optional !== 'boolean') bad('"optional" must be a boolean')
  if (isPublic && optional) bad('a route cannot be both public and optional')
  const hasRequirement = Object.keys(requirement).length > 0
  if (isPublic && hasRequirement) bad('a public route cannot also have requirements')
  const mode: RouteAuthMode = isPublic
    ? 'none'
    : optional
      ? 'optional'
      : hasRequirement || optional === false
        ? 'required'
        : options.defaultMode
  return {
    mode,
    verify: {
      optional: mode === 'optional',
      requirement: hasRequirement ? options.requirement(requirement) : undefined,
    },
  }
}
