/**
 * `@svidkit/express`: svidkit middleware for Express. `svid()` verifies the caller and sets a typed
 * `req.caller`; `requireCaller()` / `requireScopes()` add per-route requirements; `svidErrorHandler()`
 * maps errors through core's status table.
 *
 * @example
 * ```ts
 * import { svid, requireScopes } from '@svidkit/express'
 * app.use(svid({ bundles, jwt: { audience: 'admin' } }))
 * ```
 * @module
 */
import './augment.js'

export type { SvidExpressAdapterOptions, SvidExpressOptions, SvidMiddleware } from './svid.js'
export { requireCaller, requireScopes, svid, svidErrorHandler } from './svid.js'
