// How the two Node routers svidkit adapts to match paths, read from their own settings, for every
// adapter that sits on them (@svidkit/fastify, @svidkit/express, and @svidkit/nestjs on either
// platform). Structural types only: core never imports a framework.
import { type HttpRouting, httpRouting } from '../caller/http-routing.js'
import { OptionsError } from '../errors/domain-errors.js'

/**
 * How a Fastify instance's router matches paths, from its `initialConfig`: `caseSensitive`,
 * `ignoreTrailingSlash`, `ignoreDuplicateSlashes`, `useSemicolonDelimiter` (top level, or Fastify
 * 5's `routerOptions`, which wins) and `exposeHeadRoutes`. Defaults are each version's own, as
 * `initialConfig` reports them (Fastify 4 splits paths at `;` by default, Fastify 5 does not).
 *
 * @example
 * ```ts
 * import { fastifyRouting } from '@svidkit/core/adapter'
 * const routing = fastifyRouting(app.initialConfig) // once, when the plugin registers
 * credentialsFromNodeRequest(verifier, request.raw, { route: request.routeOptions.url, routing })
 * ```
 */
export function fastifyRouting(initialConfig: object): HttpRouting {
  const config = initialConfig as Readonly<Record<string, unknown>>
  const router = (config.routerOptions ?? {}) as Readonly<Record<string, unknown>>
  // A loose setting counts when either place turns it on: reading the router as looser than it is
  // only makes DENY rules match more, never less.
  const on = (key: string): boolean => router[key] === true || config[key] === true
  return httpRouting({
    caseSensitive:
      typeof router.caseSensitive === 'boolean' ? router.caseSensitive : config.caseSensitive !== false,
    strictTrailingSlash: !on('ignoreTrailingSlash'),
    mergeSlashes: on('ignoreDuplicateSlashes'),
    semicolonDelimiter: on('useSemicolonDelimiter'),
    headAsGet: config.exposeHeadRoutes !== false,
  })
}

/** The parts of an Express 4 or 5 router read here: its matching options and its layers. */
interface RouterLike {
  readonly caseSensitive?: unknown
  readonly strict?: unknown
  readonly stack?: readonly { readonly handle?: unknown; readonly route?: unknown }[]
}

const isRouter = (v: unknown): v is RouterLike =>
  typeof v === 'function' && Array.isArray((v as RouterLike).stack) && 'caseSensitive' in v

/** Every router in an app's tree (the app's own, then each mounted `express.Router()`), depth first. */
function routersOf(root: RouterLike, out: RouterLike[] = [], depth = 0): RouterLike[] {
  out.push(root)
  if (depth < 32) {
    for (const layer of root.stack ?? []) {
      if (layer.route === undefined && isRouter(layer.handle)) routersOf(layer.handle, out, depth + 1)
    }
  }
  return out
}

const appRoutings = new WeakMap<object, { layers: number; routing: HttpRouting | OptionsError }>()

/**
 * How an Express 4 or 5 app's routers match paths, read from their own settings (`case sensitive
 * routing` and `strict routing` as the app's router was built with them, and the `caseSensitive` and
 * `strict` options of every mounted `express.Router()`); Express always answers `HEAD` with `GET`
 * handlers, and never merges slashes or splits at `;`. Remembered per app and read again when layers
 * are added to it. Routers that disagree cannot be served one canonical path: that throws
 * `ERR_OPTIONS_INVALID` (a request fails closed) until they agree, or the adapter is told the routing.
 *
 * @example
 * ```ts
 * import { expressRouting } from '@svidkit/core/adapter'
 * const routing = expressRouting(req.app) // cheap: one WeakMap lookup per request
 * ```
 */
export function expressRouting(app: object, what = 'svidkit'): HttpRouting {
  const a = app as { router?: RouterLike; _router?: RouterLike }
  // Express 5 builds `app.router` on first use; Express 4 keeps it in `app._router` (and its
  // `app.router` getter throws), so `_router` is read first.
  const root = ('_router' in a ? a._router : undefined) ?? a.router
  if (root === undefined || !Array.isArray(root.stack)) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: not an Express app (no router)`)
  }
  let known = appRoutings.get(root)
  if (known === undefined || known.layers !== root.stack.length) {
    const found = new Set<string>()
    for (const r of routersOf(root)) found.add(`${r.caseSensitive === true}/${r.strict === true}`)
    known = {
      layers: root.stack.length,
      routing:
        found.size === 1
          ? httpRouting({
              caseSensitive: root.caseSensitive === true,
              strictTrailingSlash: root.strict === true,
            })
          : new OptionsError(
              'ERR_OPTIONS_INVALID',
              `${what}: the app's routers do not match paths the same way (case sensitive / strict: ${[...found].join(', ')}), so policy cannot see paths as they are routed; give every express.Router() the app's caseSensitive and strict settings, or state them (the routing option)`,
            ),
    }
    appRoutings.set(root, known)
  }
  if (known.routing instanceof OptionsError) throw known.routing
  return known.routing
}
