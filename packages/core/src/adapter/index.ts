/**
 * What a framework adapter is made of, for svidkit's own adapters and yours: turn a request into
 * core's neutral credentials (`credentialsFromNodeRequest`), build or reuse a verifier
 * (`callerVerifierFrom`), compile each route's requirement once (`compileRoute`; a gRPC service's
 * per-method settings with `compileMethods`), and keep a
 * synchronous pipeline synchronous (`attempt`, `settle`). Errors map through `@svidkit/core/errors`
 * (`toHttpResponse`, `toGrpcStatus`). See `packages/README.md` for the thin-adapter rule.
 *
 * @example
 * ```ts
 * import { attempt, compileRoute, credentialsFromNodeRequest } from '@svidkit/core/adapter'
 * const route = compileRoute({ scopes: ['orders:read'] }, verifier)
 * attempt(
 *   () => verifier.verifyCaller(credentialsFromNodeRequest(verifier, req), route.verify),
 *   ({ caller }) => next(caller),
 *   (err) => reply(toHttpResponse(err)),
 * )
 * ```
 * @module
 */
export type { MaybePromise } from '../internal/settle.js'
export { attempt, settle } from '../internal/settle.js'
export { readBearerToken } from '../pipeline/read-bearer-token.js'
export type { CallerVerifierDefaults, CallerVerifierInput } from './caller-verifier-from.js'
export { callerVerifierFrom } from './caller-verifier-from.js'
export type { CompiledMethods } from './compile-methods.js'
export { compileMethods } from './compile-methods.js'
export type { CompiledRoute, RouteMode, RouteRequirement } from './compile-route.js'
export { compileRoute, routeModeOf, validateRoute } from './compile-route.js'
export type { GrpcCallCredentialsInput, GrpcMetadataLike } from './credentials-from-grpc-call.js'
export { credentialsFromGrpcCall } from './credentials-from-grpc-call.js'
export type { HttpOperationHints, NodeHttpRequestLike } from './credentials-from-node-request.js'
export { credentialsFromNodeRequest, httpOperation } from './credentials-from-node-request.js'
export { expressRouting, fastifyRouting } from './router-routing.js'
