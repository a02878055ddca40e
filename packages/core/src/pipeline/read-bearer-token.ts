import { CredentialsError } from '../errors/domain-errors.js'

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

// A client sends the same header for as long as its token lives: the last few headers that passed
// are remembered with their token (exact string comparison), so a repeat skips the regular expression
// over the whole token (≈ 0.3–0.5 µs for a 340-character JWT) and gets the very same token string back.
const RECENT = 4
const MAX_REMEMBERED = 8192
const recentHeaders: string[] = []
const recentTokens: string[] = []
let recentNext = 0

/**
 * Reads the token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1) or gRPC
 * `authorization` metadata. Returns `undefined` when there is no header (also `null`) or it uses
 * another scheme (it is then not a credential svidkit handles); throws `ERR_CREDENTIALS_MALFORMED`
 * (HTTP 400 `invalid_request`) for a Bearer header that is anything but `Bearer`, one space and a
 * token (`Bearer<TAB>…`, two spaces, surrounding blanks, a bare `Bearer`), or that is repeated.
 *
 * @example
 * ```ts
 * readBearerToken('Bearer eyJ…') // 'eyJ…'
 * readBearerToken('Basic dXNlcg==') // undefined
 * readBearerToken('Bearer\teyJ…') // throws ERR_CREDENTIALS_MALFORMED
 * ```
 */
export function readBearerToken(header: string | readonly string[] | null | undefined): string | undefined {
  if (header === undefined || header === null) return undefined
  if (typeof header !== 'string') {
    if (!Array.isArray(header)) {
      throw new CredentialsError('ERR_CREDENTIALS_MALFORMED', 'authorization header is not a string')
    }
    if (header.length === 0) return undefined
    if (header.length > 1) {
      throw new CredentialsError('ERR_CREDENTIALS_MALFORMED', 'more than one authorization header')
    }
    return readBearerToken(header[0] as string)
  }
  if (header === '') return undefined
  for (let i = 0; i < recentHeaders.length; i++) {
    if (recentHeaders[i] === header) return recentTokens[i]
  }
  // The scheme is the text before the first blank (space or tab); only Bearer is ours.
  let end = 0
  while (end < header.length && header.charCodeAt(end) !== 32 && header.charCodeAt(end) !== 9) end++
  if (end === 0) {
    // Blanks before the scheme: HTTP/1 strips them, HTTP/2 (gRPC metadata) does not. A Bearer value
    // so sent is malformed, never "another scheme" (that would make an optional route anonymous).
    if (/^[ \t]+bearer(?:[ \t]|$)/i.test(header)) {
      throw new CredentialsError(
        'ERR_CREDENTIALS_MALFORMED',
        'authorization header has blanks before "Bearer"',
      )
    }
    return undefined
  }
  if (end !== 6 || header.slice(0, 6).toLowerCase() !== 'bearer') return undefined
  const token = header.slice(7)
  if (header.charCodeAt(6) !== 32 || !B64TOKEN.test(token)) {
    throw new CredentialsError('ERR_CREDENTIALS_MALFORMED', 'authorization header is not "Bearer <token>"')
  }
  if (header.length <= MAX_REMEMBERED) {
    recentHeaders[recentNext] = header
    recentTokens[recentNext] = token
    recentNext = (recentNext + 1) % RECENT
  }
  return token
}
