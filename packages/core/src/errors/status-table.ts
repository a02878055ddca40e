/**
 * The one table that maps every svidkit error code to its domain, HTTP status, RFC 6750
 * `WWW-Authenticate` error and gRPC status. Adapters never pick a status themselves: they call
 * {@link statusFor} (or `toHttpResponse` / `toGrpcStatus`), which read this table.
 *
 * Rules the table follows:
 * - a credential that is absent → 401 with a bare `Bearer` challenge, gRPC 16 (UNAUTHENTICATED);
 * - a credential that is present but not acceptable → 401 `invalid_token`, gRPC 16;
 * - a request that is malformed (bad `Authorization` syntax) → 400 `invalid_request`, gRPC 16;
 * - an authenticated caller that is not allowed → 403 (`insufficient_scope` for scopes), gRPC 7 (PERMISSION_DENIED);
 * - the service cannot decide right now (no SVID or bundle yet, policy engine down) → 503, gRPC 14 (UNAVAILABLE);
 * - a programming or configuration error → 500, gRPC 13 (INTERNAL).
 *
 * @module
 */

/**
 * The RFC 6750 §3.1 `error` attribute of a `WWW-Authenticate: Bearer` challenge.
 *
 * @example
 * ```ts
 * const kind: BearerErrorKind | null = statusTable.ERR_SCOPE_MISSING.bearerError // 'insufficient_scope'
 * ```
 */
export type BearerErrorKind = 'invalid_request' | 'invalid_token' | 'insufficient_scope'

/**
 * One row of the {@link statusTable}.
 *
 * @example
 * ```ts
 * const entry: StatusEntry = statusTable.ERR_CREDENTIALS_MISSING
 * entry.http // 401
 * entry.grpc // 16 (UNAUTHENTICATED)
 * entry.bearerError // null: a bare `Bearer` challenge
 * ```
 */
export interface StatusEntry {
  /** Message prefix: every message of this code reads `<domain>: <reason>`. */
  readonly domain: string
  /** HTTP status code. */
  readonly http: 400 | 401 | 403 | 500 | 503
  /** gRPC status code: 3 INVALID_ARGUMENT, 7 PERMISSION_DENIED, 13 INTERNAL, 14 UNAVAILABLE, 16 UNAUTHENTICATED. */
  readonly grpc: 3 | 7 | 13 | 14 | 16
  /** RFC 6750 error for the challenge; `null` means a bare challenge (401) or none (other statuses). */
  readonly bearerError: BearerErrorKind | null
}

const missing = (domain: string): StatusEntry => ({ domain, http: 401, grpc: 16, bearerError: null })
const invalid = (domain: string): StatusEntry => ({
  domain,
  http: 401,
  grpc: 16,
  bearerError: 'invalid_token',
})
const badRequest = (domain: string): StatusEntry => ({
  domain,
  http: 400,
  grpc: 16,
  bearerError: 'invalid_request',
})
const forbidden = (domain: string): StatusEntry => ({ domain, http: 403, grpc: 7, bearerError: null })
const unavailable = (domain: string): StatusEntry => ({ domain, http: 503, grpc: 14, bearerError: null })
const internal = (domain: string): StatusEntry => ({ domain, http: 500, grpc: 13, bearerError: null })

/**
 * Every error code svidkit throws, with its status mapping.
 *
 * @example
 * ```ts
 * import { statusTable } from '@svidkit/core/errors'
 * statusTable.ERR_JWT_SVID_EXPIRED.http // 401
 * ```
 */
export const statusTable = {
  // spiffeid: SPIFFE ID and trust domain grammar (SPIFFE-ID §2)
  ERR_SPIFFE_ID_EMPTY: invalid('spiffeid'),
  ERR_SPIFFE_ID_SCHEME: invalid('spiffeid'),
  ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING: invalid('spiffeid'),
  ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS: invalid('spiffeid'),
  ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG: invalid('spiffeid'),
  ERR_SPIFFE_ID_PATH_CHARS: invalid('spiffeid'),
  ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT: invalid('spiffeid'),
  ERR_SPIFFE_ID_PATH_DOT_SEGMENT: invalid('spiffeid'),
  ERR_SPIFFE_ID_PATH_TRAILING_SLASH: invalid('spiffeid'),
  ERR_SPIFFE_ID_PATH_LEADING_SLASH: invalid('spiffeid'),
  ERR_SPIFFE_ID_TOO_LONG: invalid('spiffeid'),
  ERR_SPIFFE_ID_NOT_MATCHED: forbidden('spiffeid'),
  ERR_SPIFFE_ID_TEMPLATE_INVALID: internal('spiffeid'),

  // bundle: X.509 / JWT / SPIFFE bundles and bundle maps
  ERR_BUNDLE_MALFORMED: internal('bundle'),
  ERR_BUNDLE_DUPLICATE_KEY: internal('bundle'),
  ERR_BUNDLE_AUTHORITY_INVALID: internal('bundle'),
  ERR_BUNDLE_TRUST_DOMAIN_MISMATCH: internal('bundle'),
  ERR_BUNDLE_NOT_FOUND: invalid('bundle'),

  // x509svid: X.509-SVID parsing and peer verification (X509-SVID §4, §5)
  ERR_X509_SVID_EMPTY_CHAIN: missing('x509svid'),
  ERR_X509_SVID_MALFORMED: invalid('x509svid'),
  ERR_X509_SVID_TOO_LARGE: invalid('x509svid'),
  ERR_X509_SVID_NO_URI_SAN: invalid('x509svid'),
  ERR_X509_SVID_MULTIPLE_URI_SANS: invalid('x509svid'),
  ERR_X509_SVID_INVALID_ID: invalid('x509svid'),
  ERR_X509_SVID_ROOT_PATH: invalid('x509svid'),
  ERR_X509_SVID_LEAF_IS_CA: invalid('x509svid'),
  ERR_X509_SVID_LEAF_KEY_CERT_SIGN: invalid('x509svid'),
  ERR_X509_SVID_LEAF_CRL_SIGN: invalid('x509svid'),
  ERR_X509_SVID_LEAF_NO_DIGITAL_SIGNATURE: invalid('x509svid'),
  ERR_X509_SVID_KEY_USAGE_MISSING: invalid('x509svid'),
  ERR_X509_SVID_KEY_USAGE_NOT_CRITICAL: invalid('x509svid'),
  ERR_X509_SVID_EXT_KEY_USAGE: invalid('x509svid'),
  ERR_X509_SVID_SIGNER_NOT_CA: invalid('x509svid'),
  ERR_X509_SVID_SIGNER_NO_KEY_CERT_SIGN: invalid('x509svid'),
  ERR_X509_SVID_PATH_LENGTH: invalid('x509svid'),
  ERR_X509_SVID_NAME_CONSTRAINTS: invalid('x509svid'),
  ERR_X509_SVID_CRITICAL_EXTENSION: invalid('x509svid'),
  ERR_X509_SVID_EXPIRED: invalid('x509svid'),
  ERR_X509_SVID_NOT_YET_VALID: invalid('x509svid'),
  ERR_X509_SVID_NO_BUNDLE: invalid('x509svid'),
  ERR_X509_SVID_UNTRUSTED: invalid('x509svid'),
  ERR_X509_SVID_KEY_INVALID: internal('x509svid'),
  ERR_X509_SVID_KEY_MISMATCH: internal('x509svid'),

  // jwtsvid: JWT-SVID verification (JWT-SVID §2–§4, §7)
  ERR_JWT_SVID_MALFORMED: invalid('jwtsvid'),
  ERR_JWT_SVID_TOO_LARGE: invalid('jwtsvid'),
  ERR_JWT_SVID_ALG_NOT_ALLOWED: invalid('jwtsvid'),
  ERR_JWT_SVID_TYP_INVALID: invalid('jwtsvid'),
  ERR_JWT_SVID_CRIT_UNSUPPORTED: invalid('jwtsvid'),
  ERR_JWT_SVID_KID_MISSING: invalid('jwtsvid'),
  ERR_JWT_SVID_SUB_MISSING: invalid('jwtsvid'),
  ERR_JWT_SVID_SUB_INVALID: invalid('jwtsvid'),
  ERR_JWT_SVID_AUD_MISSING: invalid('jwtsvid'),
  ERR_JWT_SVID_AUDIENCE_MISMATCH: invalid('jwtsvid'),
  ERR_JWT_SVID_EXP_MISSING: invalid('jwtsvid'),
  ERR_JWT_SVID_EXPIRED: invalid('jwtsvid'),
  ERR_JWT_SVID_NOT_YET_VALID: invalid('jwtsvid'),
  ERR_JWT_SVID_ISSUED_IN_FUTURE: invalid('jwtsvid'),
  ERR_JWT_SVID_CLAIM_INVALID: invalid('jwtsvid'),
  ERR_JWT_SVID_NO_BUNDLE: invalid('jwtsvid'),
  ERR_JWT_SVID_KEY_NOT_FOUND: invalid('jwtsvid'),
  ERR_JWT_SVID_KEY_ALG_MISMATCH: invalid('jwtsvid'),
  ERR_JWT_SVID_SIGNATURE_INVALID: invalid('jwtsvid'),

  // xfcc: Envoy x-forwarded-client-cert parsing and trust
  ERR_XFCC_MALFORMED: invalid('xfcc'),
  ERR_XFCC_TOO_LARGE: invalid('xfcc'),
  ERR_XFCC_MISSING: missing('xfcc'),
  ERR_XFCC_UNTRUSTED_PEER: invalid('xfcc'),
  ERR_XFCC_HOPS: invalid('xfcc'),
  ERR_XFCC_NO_URI: invalid('xfcc'),
  ERR_XFCC_MULTIPLE_URIS: invalid('xfcc'),
  ERR_XFCC_INVALID_URI: invalid('xfcc'),
  ERR_XFCC_BY_MISMATCH: invalid('xfcc'),
  ERR_XFCC_DUPLICATE_KEY: invalid('xfcc'),
  ERR_XFCC_CERT_REQUIRED: invalid('xfcc'),
  ERR_XFCC_CERT_MISMATCH: invalid('xfcc'),
  ERR_XFCC_CERT_INVALID: invalid('xfcc'),

  // forwardedcert: nginx / HAProxy / Traefik / ALB / RFC 9440 certificate headers
  ERR_FORWARDED_CERT_MALFORMED: invalid('forwardedcert'),
  ERR_FORWARDED_CERT_MISSING: missing('forwardedcert'),
  ERR_FORWARDED_CERT_UNTRUSTED_PEER: invalid('forwardedcert'),

  // credentials: extracting credentials from a request
  ERR_CREDENTIALS_MISSING: missing('credentials'),
  ERR_CREDENTIALS_MALFORMED: badRequest('credentials'),
  ERR_CREDENTIALS_CHANNEL_NOT_ALLOWED: invalid('credentials'),
  ERR_CREDENTIALS_CALLER_MISMATCH: invalid('credentials'),

  // oidc: tokens from configured OIDC issuers
  ERR_OIDC_MALFORMED: invalid('oidc'),
  ERR_OIDC_ISSUER_UNKNOWN: invalid('oidc'),
  ERR_OIDC_ALG_NOT_ALLOWED: invalid('oidc'),
  ERR_OIDC_KEY_NOT_FOUND: invalid('oidc'),
  ERR_OIDC_SIGNATURE_INVALID: invalid('oidc'),
  ERR_OIDC_AUDIENCE_MISMATCH: invalid('oidc'),
  ERR_OIDC_EXPIRED: invalid('oidc'),
  ERR_OIDC_NOT_YET_VALID: invalid('oidc'),
  ERR_OIDC_CLAIM_INVALID: invalid('oidc'),
  ERR_OIDC_JWKS_UNAVAILABLE: unavailable('oidc'),

  // authz: policy decisions
  ERR_ACCESS_DENIED: forbidden('authz'),
  ERR_SCOPE_MISSING: { domain: 'authz', http: 403, grpc: 7, bearerError: 'insufficient_scope' },
  ERR_AUTHORIZER_UNAVAILABLE: unavailable('authz'),

  // policy: policy documents and policy test files
  ERR_POLICY_INVALID: internal('policy'),
  ERR_POLICY_TESTS_INVALID: internal('policy'),

  // audit: audit events read back from a log (policy replay)
  ERR_AUDIT_EVENT_INVALID: internal('audit'),

  // workloadapi: the SPIFFE Workload API client
  ERR_WORKLOAD_API_ADDRESS_MISSING: internal('workloadapi'),
  ERR_WORKLOAD_API_ADDRESS_INVALID: internal('workloadapi'),
  ERR_WORKLOAD_API_UNAVAILABLE: unavailable('workloadapi'),
  ERR_WORKLOAD_API_PERMISSION_DENIED: unavailable('workloadapi'),
  ERR_WORKLOAD_API_INVALID_ARGUMENT: internal('workloadapi'),
  // ValidateJWTSVID answered InvalidArgument: the agent judged the token invalid (not a client bug).
  ERR_WORKLOAD_API_JWT_SVID_INVALID: invalid('workloadapi'),
  ERR_WORKLOAD_API_UNIMPLEMENTED: internal('workloadapi'),
  ERR_WORKLOAD_API_MALFORMED_RESPONSE: unavailable('workloadapi'),
  ERR_WORKLOAD_API_ABORTED: unavailable('workloadapi'),
  ERR_WORKLOAD_API_TIMEOUT: unavailable('workloadapi'),
  ERR_WORKLOAD_API_FAILED: unavailable('workloadapi'),

  // source: long-lived SVID and bundle sources
  ERR_SOURCE_CLOSED: unavailable('source'),
  ERR_SOURCE_NOT_READY: unavailable('source'),
  ERR_SOURCE_TIMEOUT: unavailable('source'),
  ERR_SOURCE_NO_SVID: unavailable('source'),
  ERR_SOURCE_SVID_EXPIRED: unavailable('source'),
  ERR_SOURCE_FILE: unavailable('source'),

  // federation: SPIFFE bundle endpoints
  ERR_FEDERATION_ENDPOINT_INVALID: internal('federation'),
  ERR_FEDERATION_FETCH_FAILED: unavailable('federation'),

  // tls: mTLS servers and clients
  ERR_TLS_NO_PEER_CERTIFICATE: missing('tls'),
  ERR_TLS_PEER_NOT_AUTHORIZED: forbidden('tls'),

  // cli: the svidkit command
  ERR_CLI_USAGE: internal('cli'),
  ERR_CLI_INPUT: internal('cli'),
  ERR_CLI_OUTPUT: internal('cli'),

  // generic
  ERR_OPTIONS_INVALID: internal('options'),
  ERR_INTERNAL: internal('svidkit'),
} as const satisfies Record<string, StatusEntry>

/**
 * Every stable error code svidkit can put on an error.
 *
 * @example
 * ```ts
 * const code: ErrorCode = 'ERR_JWT_SVID_EXPIRED'
 * if (isSvidkitError(err) && err.code === code) console.log(statusTable[code].http) // 401
 * ```
 */
export type ErrorCode = keyof typeof statusTable
