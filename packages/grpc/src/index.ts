/**
 * `@svidkit/grpc`: SPIFFE workload identity for `@grpc/grpc-js`. Serve a grpc-js `Server` on a TLS
 * listener svidkit owns (`serveSvid`), authenticate and authorize every call in a server interceptor
 * (`svidInterceptor`) through `@svidkit/core`'s one caller pipeline, read the typed caller in handlers
 * (`callerOf`), and call other workloads with SPIFFE channel and JWT-SVID call credentials.
 *
 * @example
 * ```ts
 * import { Server } from '@grpc/grpc-js'
 * import { callerOf, serveSvid, svidInterceptor } from '@svidkit/grpc'
 * const server = new Server({ interceptors: [svidInterceptor({ bundles: source })] })
 * server.addService(OrdersService, { get: (call, cb) => cb(null, { by: String(callerOf(call)?.spiffeId) }) })
 * await serveSvid(server, { address: '0.0.0.0:50051', source, authorize: authorizeMemberOf('example.org') })
 * ```
 * @module
 */

export type { RouteRequirement } from '@svidkit/core/adapter'
export { callerOf } from './caller-of.js'
export type { CallTarget, JwtSvidCallCredentialsOptions } from './jwt-svid-call-credentials.js'
export { jwtSvidCallCredentials } from './jwt-svid-call-credentials.js'
export type { SvidInterceptorAdapterOptions, SvidInterceptorOptions } from './options.js'
export type { ServeSvidOptions, SvidListener } from './serve-svid.js'
export { serveSvid } from './serve-svid.js'
export type { SvidChannelCredentialsOptions } from './svid-channel-credentials.js'
export { svidChannelCredentials } from './svid-channel-credentials.js'
export type { SvidInterceptor } from './svid-interceptor.js'
export { svidInterceptor } from './svid-interceptor.js'
export type { GrpcCallConnection } from './tls-socket-of.js'
export { tlsSocketOf } from './tls-socket-of.js'
