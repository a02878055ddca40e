import type { ErrorCode } from './status-table.js'
import { statusTable } from './status-table.js'
import { toSvidkitError } from './to-svidkit-error.js'

/**
 * Options for {@link toHttpResponse}.
 *
 * @example
 * ```ts
 * const options: HttpResponseOptions = { realm: 'orders' }
 * toHttpResponse(new CredentialsError('ERR_CREDENTIALS_MISSING', 'no credentials'), options).headers
 * // { 'www-authenticate': 'Bearer realm="orders"' }
 * ```
 */
export interface HttpResponseOptions {
  /** The `realm` of the `WWW-Authenticate` challenge. Default `svidkit`. */
  realm?: string
}

/**
 * The JSON body svidkit adapters send for an error.
 *
 * @example
 * ```ts
 * const body: HttpErrorBody = toHttpResponse(new AccessDeniedError('ERR_ACCESS_DENIED', 'no rule allows this call')).body
 * // { statusCode: 403, error: 'forbidden', code: 'ERR_ACCESS_DENIED', message: 'authz: no rule allows this call' }
 * ```
 */
export interface HttpErrorBody {
  /** HTTP status, repeated for clients that only read the body. */
  readonly statusCode: number
  /** The RFC 6750 error kind, or a short status text. */
  readonly error: string
  /** The stable svidkit error code. */
  readonly code: ErrorCode
  /** `<domain>: <reason>`; never contains a token or key. */
  readonly message: string
}

/**
 * A ready-to-send HTTP error response.
 *
 * @example
 * ```ts
 * const response: HttpErrorResponse = toHttpResponse(new CredentialsError('ERR_CREDENTIALS_MISSING', 'no credentials'))
 * response.status // 401
 * response.headers['www-authenticate'] // 'Bearer realm="svidkit"'
 * ```
 */
export interface HttpErrorResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: HttpErrorBody
}

const statusText: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  500: 'internal_error',
  503: 'unavailable',
}

// RFC 6750 §3: error_description and scope allow %x20-21 / %x23-5B / %x5D-7E only.
function quotable(value: string): string {
  return value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?')
}

/**
 * Maps any error to the HTTP status, RFC 6750 `WWW-Authenticate` header and JSON body from the one
 * status table. Every adapter answers errors through this function.
 *
 * - 401 with no credentials: `WWW-Authenticate: Bearer realm="svidkit"` (no error attribute, RFC 6750 §3.1);
 * - 401 with bad credentials: `Bearer realm="svidkit", error="invalid_token", error_description="…"`;
 * - 400: `error="invalid_request"`; 403 for a missing scope: `error="insufficient_scope", scope="…"`.
 *
 * @example
 * ```ts
 * const { status, headers, body } = toHttpResponse(err, { realm: 'orders' })
 * res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(body))
 * ```
 */
export function toHttpResponse(error: unknown, options: HttpResponseOptions = {}): HttpErrorResponse {
  const err = toSvidkitError(error)
  const entry = statusTable[err.code]
  const headers: Record<string, string> = {}
  const realm = quotable(options.realm ?? 'svidkit')
  if (entry.http === 401 || entry.http === 400 || entry.bearerError === 'insufficient_scope') {
    let challenge = `Bearer realm="${realm}"`
    if (entry.bearerError) {
      challenge += `, error="${entry.bearerError}", error_description="${quotable(err.message)}"`
    }
    const scopes = err.details?.requiredScopes
    if (entry.bearerError === 'insufficient_scope' && Array.isArray(scopes)) {
      challenge += `, scope="${quotable(scopes.join(' '))}"`
    }
    headers['www-authenticate'] = challenge
  }
  return {
    status: entry.http,
    headers,
    body: {
      statusCode: entry.http,
      error: entry.bearerError ?? statusText[entry.http] ?? 'error',
      code: err.code,
      message: err.message,
    },
  }
}
