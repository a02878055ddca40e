/**
 * `@svidkit/core`: SPIFFE workload identity for Node.js.
 *
 * The root entry re-exports the names most applications use. Each domain also has its own subpath
 * (`@svidkit/core/spiffe-id`, `/bundle`, `/x509-svid`, `/jwt-svid`, `/xfcc`, `/forwarded-cert`,
 * `/caller`, `/policy`, `/audit`, `/oidc`, `/errors`) with everything it offers. The node-only
 * modules that open sockets or watch files have subpaths only: `/workload-api` (gRPC client and live
 * sources), `/tls` (mTLS servers and clients), `/source` (static and file sources) and `/federation`.
 *
 * @example
 * ```ts
 * import { createCallerVerifier, SpiffeId, verifyJwtSvid } from '@svidkit/core'
 * import { X509Source } from '@svidkit/core/workload-api'
 * ```
 * @module
 */

export type { AuditEvent, AuditSink } from './audit/index.js'
export { createAuditor, jsonLinesSink, loggerSink, memorySink } from './audit/index.js'
// Bundles
export type { JwtBundleSource, X509BundleSource } from './bundle/index.js'
export {
  BundleSet,
  JwtBundle,
  parseBundleDocument,
  parseBundleMap,
  SpiffeBundle,
  X509Bundle,
} from './bundle/index.js'
// Callers and the pipeline
export type {
  Caller,
  CallerChannel,
  CallerCredentials,
  CallerUser,
  CallerVerifier,
  CallerVerifierOptions,
  GrpcOperation,
  HttpOperation,
  OidcCaller,
  OidcPrincipal,
  Operation,
  SpiffeCaller,
  VerifiedCall,
} from './caller/index.js'
export { callerFromId, createCallerVerifier, httpRouting } from './caller/index.js'
// Errors
export type { ErrorCode, HttpErrorResponse } from './errors/index.js'
export {
  AccessDeniedError,
  AuditError,
  BundleError,
  CredentialsError,
  FederationError,
  ForwardedCertError,
  isSvidkitError,
  JwtSvidError,
  OidcError,
  OptionsError,
  PolicyError,
  SourceError,
  SpiffeIdError,
  SvidkitError,
  statusTable,
  TlsError,
  toGrpcStatus,
  toHttpResponse,
  WorkloadApiError,
  X509SvidError,
  XfccError,
} from './errors/index.js'
export { createForwardedCertExtractor, decodeForwardedCert } from './forwarded-cert/index.js'
// SVIDs
export type { JwtSvid, JwtSvidSource } from './jwt-svid/index.js'
export { createJwtSvidVerifier, parseJwtSvidInsecure, verifyJwtSvid } from './jwt-svid/index.js'
// OIDC
export { createOidcVerifier } from './oidc/index.js'
// Policy and audit
export type { AuthorizationInput, Authorizer, Decision, Policy, PolicyDocument } from './policy/index.js'
export {
  authorizeAny,
  authorizeId,
  authorizeMatcher,
  authorizeMemberOf,
  authorizeOneOf,
  createPolicyAuthorizer,
  definePolicy,
  loadPolicy,
  loadPolicyFile,
  toAccessDeniedError,
} from './policy/index.js'
// SPIFFE IDs
export type { Matcher, MatchResult } from './spiffe-id/index.js'
export {
  assertMatch,
  matchAny,
  matchId,
  matchMemberOf,
  matchOneOf,
  matchPathPrefix,
  matchPathTemplate,
  SpiffeId,
  TrustDomain,
} from './spiffe-id/index.js'
export type { VerifiedX509Svid, X509Svid, X509SvidSource } from './x509-svid/index.js'
export { parseX509Svid, verifyX509Svid } from './x509-svid/index.js'
// Forwarded identity
export type { XfccElement } from './xfcc/index.js'
export { createXfccExtractor, formatXfcc, parseXfcc, selectXfccCaller } from './xfcc/index.js'
