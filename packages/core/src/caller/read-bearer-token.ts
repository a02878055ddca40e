import { CredentialsError } from '../errors/domain-errors.js'

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * Reads the token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1) or gRPC
 * `authorization` metadata. Returns `undefined` when there is no header or it uses another scheme
 * (it is then not a credential svidkit handles); throws `ERR_CREDENTIALS_MALFORMED` (HTTP 400
 * `invalid_request`) for a Bearer header that is malformed or repeated.
 *
 * @example
 * ```ts
 * readBearerToken('Bearer eyJ…') // 'eyJ…'
 * readBearerToken('Basic dXNlcg==') // undefined
 * ```
 */
export function readBearerToken(header: string | readonly string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  if (typeof header !== 'string') {
    if (header.length === 0) return undefined
    if (header.length > 1) {
      throw new CredentialsError('ERR_CREDENTIALS_MALFORMED', 'more than one authorization header')
    }
    return readBearerToken(header[0])
  }
  if (header === '') return undefined
  const space = header.indexOf(' ')
  const scheme = space === -1 ? header : header.slice(0, space)
  if (scheme.length !== 6 || scheme.toLowerCase() !== 'bearer') return undefined
  const token = header.slice(space + 1)
  if (space === -1 || !B64TOKEN.test(token)) {
    throw new CredentialsError('ERR_CREDENTIALS_MALFORMED', 'authorization header is not "Bearer <token>"')
  }
  return token
}
