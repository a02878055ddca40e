// The SPIFFE ID grammar of SPIFFE-ID §2, shared by SpiffeId and TrustDomain. Not exported.
import { SpiffeIdError } from '../errors/domain-errors.js'

export const SCHEME_PREFIX = 'spiffe://'
/** SPIFFE-ID §2.3: implementations MUST support 2048 bytes; we reject anything longer. */
export const MAX_ID_BYTES = 2048
/** SPIFFE-ID §2.3: the trust domain is at most 255 bytes (the RFC 3986 host limit). */
export const MAX_TRUST_DOMAIN_BYTES = 255

// Lookup tables for the two character sets: [a-z0-9.-_] and [a-zA-Z0-9.-_].
const TD_CHARS = new Uint8Array(128)
const PATH_CHARS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  const lower = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '.' || ch === '-' || ch === '_'
  TD_CHARS[c] = lower ? 1 : 0
  PATH_CHARS[c] = lower || (ch >= 'A' && ch <= 'Z') ? 1 : 0
}

export function fail(code: ConstructorParameters<typeof SpiffeIdError>[0], reason: string): never {
  throw new SpiffeIdError(code, reason)
}

/** Validates a bare trust domain name (no scheme). */
export function validateTrustDomainName(name: string): void {
  if (name.length === 0) fail('ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING', 'trust domain is missing')
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c >= 128 || TD_CHARS[c] === 0) {
      fail(
        'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS',
        'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
      )
    }
  }
  if (name.length > MAX_TRUST_DOMAIN_BYTES) {
    fail('ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG', `trust domain is longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`)
  }
}

/** Validates a path ('' or '/seg/seg'). */
export function validatePath(path: string): void {
  if (path.length === 0) return
  if (path.charCodeAt(0) !== 47) fail('ERR_SPIFFE_ID_PATH_LEADING_SLASH', 'path must have a leading slash')
  let segStart = 1
  for (let i = 1; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47) {
      const len = i - segStart
      if (len === 0) {
        if (i === path.length) fail('ERR_SPIFFE_ID_PATH_TRAILING_SLASH', 'path cannot have a trailing slash')
        fail('ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT', 'path cannot contain empty segments')
      }
      if (
        path.charCodeAt(segStart) === 46 &&
        (len === 1 || (len === 2 && path.charCodeAt(segStart + 1) === 46))
      ) {
        fail('ERR_SPIFFE_ID_PATH_DOT_SEGMENT', 'path cannot contain dot segments')
      }
      segStart = i + 1
      continue
    }
    const c = path.charCodeAt(i)
    if (c >= 128 || PATH_CHARS[c] === 0) {
      fail(
        'ERR_SPIFFE_ID_PATH_CHARS',
        'path segment characters are limited to letters, numbers, dots, dashes, and underscores',
      )
    }
  }
}

/** Validates one path segment (no slashes). */
export function validateSegment(segment: string): void {
  if (segment.length === 0) fail('ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT', 'path cannot contain empty segments')
  if (segment === '.' || segment === '..')
    fail('ERR_SPIFFE_ID_PATH_DOT_SEGMENT', 'path cannot contain dot segments')
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i)
    if (c >= 128 || PATH_CHARS[c] === 0) {
      fail(
        'ERR_SPIFFE_ID_PATH_CHARS',
        'path segment characters are limited to letters, numbers, dots, dashes, and underscores',
      )
    }
  }
}

/**
 * Splits and validates a full SPIFFE ID string. Returns the trust domain name and the path.
 * With `normalize`, the scheme and trust domain are lower-cased first (SPIFFE-ID §2.4).
 */
export function splitSpiffeId(input: string, normalize: boolean): { trustDomain: string; path: string } {
  if (typeof input !== 'string' || input.length === 0) fail('ERR_SPIFFE_ID_EMPTY', 'cannot be empty')
  if (input.length > MAX_ID_BYTES)
    fail('ERR_SPIFFE_ID_TOO_LONG', `SPIFFE ID is longer than ${MAX_ID_BYTES} bytes`)
  let rest: string
  if (input.startsWith(SCHEME_PREFIX)) rest = input.slice(SCHEME_PREFIX.length)
  else if (normalize && input.slice(0, SCHEME_PREFIX.length).toLowerCase() === SCHEME_PREFIX) {
    rest = input.slice(SCHEME_PREFIX.length)
  } else fail('ERR_SPIFFE_ID_SCHEME', 'scheme is missing or invalid')
  const slash = rest.indexOf('/')
  let td = slash === -1 ? rest : rest.slice(0, slash)
  const path = slash === -1 ? '' : rest.slice(slash)
  if (normalize) td = td.toLowerCase()
  validateTrustDomainName(td)
  validatePath(path)
  // The byte length equals the string length: both parts are ASCII once validated.
  if (SCHEME_PREFIX.length + td.length + path.length > MAX_ID_BYTES) {
    fail('ERR_SPIFFE_ID_TOO_LONG', `SPIFFE ID is longer than ${MAX_ID_BYTES} bytes`)
  }
  return { trustDomain: td, path }
}
