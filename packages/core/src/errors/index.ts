/**
 * Errors: one base class with stable string codes, one subclass per domain, and one status table
 * that maps every code to HTTP (with RFC 6750 `WWW-Authenticate`) and gRPC statuses.
 *
 * @example
 * ```ts
 * import { toHttpResponse, SvidkitError } from '@svidkit/core/errors'
 * ```
 * @module
 */
export {
  AccessDeniedError,
  AuditError,
  BundleError,
  CredentialsError,
  FederationError,
  ForwardedCertError,
  JwtSvidError,
  OidcError,
  OptionsError,
  PolicyError,
  SourceError,
  SpiffeIdError,
  TlsError,
  WorkloadApiError,
  X509SvidError,
  XfccError,
} from './domain-errors.js'
export type { BearerErrorKind, ErrorCode, StatusEntry } from './status-table.js'
export { statusTable } from './status-table.js'
export type { SvidkitErrorOptions } from './svidkit-error.js'
export { isSvidkitError, SvidkitError } from './svidkit-error.js'
export type { GrpcErrorStatus } from './to-grpc-status.js'
export { toGrpcStatus } from './to-grpc-status.js'
export type { HttpErrorBody, HttpErrorResponse, HttpResponseOptions } from './to-http-response.js'
export { toHttpResponse } from './to-http-response.js'
export { toSvidkitError } from './to-svidkit-error.js'
