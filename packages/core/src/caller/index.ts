/**
 * Who called and what they are doing: the `Caller` every adapter attaches, the `Operation` policy
 * decides on, how a router matches paths (`HttpRouting`), and `createCallerVerifier`, the one
 * transport-neutral pipeline that turns a request's credentials into a verified, authorized caller.
 *
 * Caches of a verifier, all bounded: the mTLS identity of a connection (and the caller built from it)
 * lives as long as the connection (keyed by the socket; a failure is remembered for 1 s); identity
 * template captures are kept per live SPIFFE ID object (freed with it; the IDs themselves come from
 * the bounded caches of `jwt-svid` and `xfcc`); the last **4** `Authorization` header values (up to
 * 8 KiB each) are remembered with their token; verified callers and decisions are kept per live object,
 * and with the mTLS channel alone a connection's whole result is kept until its certificate expires.
 * Verified tokens and chains: see `jwt-svid` and `xfcc`. The full table is in the package README.
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
