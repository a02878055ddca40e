/**
 * Who called and what they are doing: the `Caller` every adapter attaches, the `Operation` policy
 * decides on, how a router matches paths (`HttpRouting`), and `createCallerVerifier`, the one
 * transport-neutral pipeline that turns a request's credentials into a verified, authorized caller.
 *
 * @example
 * ```ts
 * import { createCallerVerifier } from '@svidkit/core/caller'
 * const verifier = createCallerVerifier({ bundles, jwt: { audience: 'orders' } })
 * const { caller } = await verifier.verifyCaller({ operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' }, authorization })
 * ```
 * @module
 */
export type {
  CallerCredentials,
  CallerVerifier,
  CallerVerifierOptions,
  CredentialHeaders,
  VerifiedCall,
  VerifyCallerOptions,
} from '../pipeline/caller-verifier.js'
export { createCallerVerifier } from '../pipeline/create-caller-verifier.js'
export type { TlsSocketLike } from '../tls/peer-certificate-chain.js'
export type { Caller, CallerChannel, CallerUser, OidcCaller, OidcPrincipal, SpiffeCaller } from './caller.js'
export type { CallerFromIdOptions } from './create-caller.js'
export { callerFromId } from './create-caller.js'
export type { HttpRouting } from './http-routing.js'
export { httpRouting } from './http-routing.js'
export type { ConnectionOperation, GrpcOperation, HttpOperation, Operation } from './operation.js'
export { readScopes } from './read-scopes.js'
