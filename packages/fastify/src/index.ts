/**
 * `@svidkit/fastify`: the svidkit Fastify plugin. Register it with core's verifier options; read the
 * verified caller as `request.caller`; put per-route requirements in `config.svid`.
 *
 * @example
 * ```ts
 * import svidkit from '@svidkit/fastify'
 * await app.register(svidkit, { bundles, jwt: { audience: 'orders' } })
 * ```
 * @module
 */
import './augment.js'
import { svidkitFastify } from './plugin.js'

export type { RouteRequirement } from '@svidkit/core/adapter'
export type { SvidkitFastifyDecorator } from './augment.js'
export type { SvidkitFastifyAdapterOptions, SvidkitFastifyOptions } from './options.js'
export { svidkitFastify }
export default svidkitFastify
