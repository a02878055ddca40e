import { optionsFailure } from '../internal/options.js'
import type { CallerVerifier } from '../pipeline/caller-verifier.js'
import {
  type CompiledRoute,
  compileRoute,
  type RouteMode,
  type RouteRequirement,
  routeModeOf,
} from './compile-route.js'

/**
 * The per-method requirements of a gRPC service (grpc-js, Connect), compiled by
 * {@link compileMethods}: `routeOf(method)` gives the compiled route of a full method.
 *
 * @example
 * ```ts
 * const methods: CompiledMethods = compileMethods({ '/grpc.health.v1.Health/*': { public: true } }, verifier)
 * methods.routeOf('/grpc.health.v1.Health/Check').mode // 'none'
 * ```
 */
export interface CompiledMethods {
  /**
   * The route of a full method (`/package.Service/Method`): its own entry, else its service's
   * (`/package.Service/*`), else the default mode's.
   */
  routeOf(method: string): CompiledRoute
}

const METHOD = /^\/[^/*]+\/(?:\*|[^/*]+)$/
const MEMO_LIMIT = 4096

/**
 * Compiles the per-method settings of a gRPC adapter once, when it is created: each key must be a
 * full method (`/package.Service/Method`) or a whole service (`/package.Service/*`), each value a
 * {@link RouteRequirement} (compiled with `compileRoute` against `verifier`). The exact method wins
 * over its service; methods no key names get `defaultMode` (default `required`). Keys match exactly,
 * as gRPC servers route. Throws `OptionsError` (`ERR_OPTIONS_INVALID`, prefixed with `what`) for a
 * bad key or requirement. Resolutions are remembered per method name (a bounded memo).
 *
 * @example
 * ```ts
 * import { compileMethods } from '@svidkit/core/adapter'
 * const methods = compileMethods(
 *   { '/orders.v1.Orders/Delete': { callers: ['spiffe://example.org/ops/admin'] }, '/grpc.health.v1.Health/*': { public: true } },
 *   verifier,
 *   { what: '@svidkit/grpc' },
 * )
 * const route = methods.routeOf(call.getPath())
 * if (route.mode !== 'none') await verifier.verifyCaller(credentials, route.verify)
 * ```
 */
export function compileMethods(
  methods: Readonly<Record<string, RouteRequirement>> | undefined,
  verifier: Pick<CallerVerifier, 'identityTemplates'>,
  options: { defaultMode?: RouteMode; what?: string } = {},
): CompiledMethods {
  const what = options.what ?? 'compileMethods'
  const bad = optionsFailure(what)
  const defaultMode = routeModeOf(options.defaultMode, what)
  if (methods !== undefined && (typeof methods !== 'object' || methods === null || Array.isArray(methods))) {
    bad('methods must be an object')
  }
  const compiled = new Map<string, CompiledRoute>()
  for (const [method, spec] of Object.entries(methods ?? {})) {
    if (!METHOD.test(method))
      bad(`"${method}" is not a full method ("/package.Service/Method" or "/package.Service/*")`)
    compiled.set(method, compileRoute(spec, verifier, { defaultMode, what: `${what}: methods["${method}"]` }))
  }
  const fallback = compileRoute(undefined, verifier, { defaultMode })
  const memo = new Map<string, CompiledRoute>()
  return Object.freeze({
    routeOf(method: string): CompiledRoute {
      let route = memo.get(method)
      if (route === undefined) {
        route =
          compiled.get(method) ?? compiled.get(`${method.slice(0, method.lastIndexOf('/'))}/*`) ?? fallback
        if (memo.size < MEMO_LIMIT) memo.set(method, route)
      }
      return route
    },
  })
}
