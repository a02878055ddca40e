/**
 * `@svidkit/connect`: SPIFFE workload identity for Connect servers (`@connectrpc/connect-node`).
 * `createSvidkitInterceptor` authenticates and authorizes every call — Connect, gRPC and gRPC-web
 * alike — through `@svidkit/core`'s one caller pipeline, with the operation
 * `/package.Service/Method` (the policy of a grpc-js service applies unchanged);
 * `svidkitContextValues` hands it the call's Node request; handlers read the typed caller with
 * `callerOf(ctx)` or `ctx.values.get(callerKey)`; refusals are `ConnectError`s from core's status
 * table (`toConnectError`), with the svidkit code in metadata (`svidkitCodeOf`).
 *
 * @example
 * ```ts
 * import { connectNodeAdapter } from '@connectrpc/connect-node'
 * import { callerOf, createSvidkitInterceptor, svidkitContextValues } from '@svidkit/connect'
 * const handler = connectNodeAdapter({
 *   routes: (router) => router.service(Orders, { getOrder: (req, ctx) => ({ id: req.id, by: String(callerOf(ctx).spiffeId) }) }),
 *   interceptors: [createSvidkitInterceptor({ bundles: source, self: source })],
 *   contextValues: svidkitContextValues,
 * })
 * ```
 * @module
 */

export type { RouteRequirement } from '@svidkit/core/adapter'
export { callerKey } from './caller-key.js'
export { callerOf } from './caller-of.js'
export type { SvidkitInterceptor } from './create-svidkit-interceptor.js'
export { createSvidkitInterceptor } from './create-svidkit-interceptor.js'
export type { SvidkitInterceptorAdapterOptions, SvidkitInterceptorOptions } from './options.js'
export { svidkitCodeOf } from './svidkit-code-of.js'
export { svidkitContextValues } from './svidkit-context-values.js'
export { SVIDKIT_CODE_HEADER, toConnectError } from './to-connect-error.js'
