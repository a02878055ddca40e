/**
 * The caller pipeline: who called (`Caller`), what they are doing (`Operation`), and
 * `createCallerVerifier`, the one framework-neutral `verifyCaller` every adapter calls.

 *
 * Caches of a verifier, all bounded: the mTLS identity of a connection (and the caller built from it)
 * lives as long as the connection (keyed by the socket; a failure is remembered for 1 s); identity
 * template captures are kept per live SPIFFE ID object (freed with it; the IDs themselves come from
 * the bounded caches of `jwt-svid` and `xfcc`); the last **4** `Authorization` header values (up to
 * 8 KiB each) are remembered with their token. Verified tokens and chains: see `jwt-svid` and `xfcc`. *
 * @example
 * ```ts
 * import { createCallerVerifier } from '@svidkit/core/caller'
 * const verifier = createCallerVerifier({ bundles, jwt: { audience: 'orders' } })
 * ```
 * @module
 */
export type { Caller, CallerChannel, CallerUser, OidcCaller, OidcPrincipal, SpiffeCaller } from './caller.js'
export type { CallerVerifierDefaults, CallerVerifierInput } from './caller-verifier-from.js'
export { callerVerifierFrom } from './caller-verifier-from.js'
export type { RouteAuth, RouteAuthMode, RouteAuthSpec } from './compile-route-auth.js'
export { compileRouteAuth } from './compile-route-auth.js'
export type {
  CallerCredentials,
  CallerVerifier,
  CallerVerifierOptions,
  NodeHttpRequestLike,
  VerifiedCall,
  VerifyCallerOptions,
} from './create-caller-verifier.js'
export { createCallerVerifier, httpOperation } from './create-caller-verifier.js'
export type { RouteRequirement } from './create-requirement.js'
export { createRequirement } from './create-requirement.js'
export type { GrpcOperation, HttpOperation, Operation } from './operation.js'
export type { TlsSocketLike } from './peer-certificate-chain.js'
export { readBearerToken } from './read-bearer-token.js'
export { readScopes } from './read-scopes.js'
export type { MaybePromise } from './settle.js'
export { attempt, settle } from './settle.js'
export { validateRequirement } from './validate-requirement.js'
