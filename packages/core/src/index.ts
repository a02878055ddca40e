/**
 * `@svidkit/core`: SPIFFE workload identity for Node.js.
 *
 * The root entry re-exports the most used names; each domain also has its own subpath
 * (`@svidkit/core/spiffe-id`, `/bundle`, `/x509-svid`, `/jwt-svid`, `/errors`, …).
 *
 * @example
 * ```ts
 * import { SpiffeId, verifyJwtSvid } from '@svidkit/core'
 * ```
 * @module
 */
export type { Caller, CallerChannel, OidcCaller, OidcPrincipal, SpiffeCaller } from './caller/caller.js'
export type { GrpcOperation, HttpOperation, Operation } from './caller/operation.js'
export type { ErrorCode } from './errors/index.js'
export * as errors from './errors/index.js'
export {
  AccessDeniedError,
  BundleError,
  CredentialsError,
  isSvidkitError,
  JwtSvidError,
  SpiffeIdError,
  SvidkitError,
  statusTable,
  toGrpcStatus,
  toHttpResponse,
  X509SvidError,
  XfccError,
} from './errors/index.js'
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
