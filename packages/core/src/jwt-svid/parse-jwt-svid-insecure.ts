import { OptionsError } from '../errors/domain-errors.js'
import {
  normalizeAudienceOption,
  normalizeIntegerOption,
  normalizeSkewOption,
  resolveAt,
} from '../internal/options.js'
import {
  checkJwtSvidClaims,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_TOKEN_BYTES,
  decodeJwtSvid,
  toJwtSvid,
} from './decode-jwt-svid.js'
import type { JwtSvid } from './jwt-svid.js'

/**
 * Options for {@link parseJwtSvidInsecure}.
 *
 * @example
 * ```ts
 * parseJwtSvidInsecure(token, { at: new Date('2030-01-01T00:00:00Z') })
 * ```
 */
export interface ParseJwtSvidInsecureOptions {
  /** When given, `aud` must contain any of these (non-empty). When absent, the audience is not matched. */
  audience?: string | readonly string[]
  /** The time to check `exp` / `nbf` / `iat` at. Default: now. */
  at?: Date
  /** Tolerance on `exp`, `nbf` and `iat`, in seconds. Default 60. */
  clockSkewSeconds?: number
  /** Largest token accepted, in bytes. Default 8192. */
  maxTokenBytes?: number
}

/**
 * Parses a JWT-SVID **without checking its signature**, for inspection and debugging only (go-spiffe
 * `jwtsvid.ParseInsecure`). Never use the result to authenticate anyone: anybody can mint a token that
 * passes. Every other check of {@link verifyJwtSvid} still runs — compact serialization, size, `alg`
 * allowlist, `typ`, `crit`, `sub` / `exp` / `aud` present, `sub` a SPIFFE ID, time claims (at `at`,
 * with the skew), and the audience when one is given — except that `kid` is not required and no
 * bundle is consulted.
 *
 * @throws JwtSvidError as {@link verifyJwtSvid} does (never `ERR_JWT_SVID_SIGNATURE_INVALID`,
 *   `ERR_JWT_SVID_NO_BUNDLE`, `ERR_JWT_SVID_KEY_*` or `ERR_JWT_SVID_KID_MISSING`).
 * @example
 * ```ts
 * import { parseJwtSvidInsecure } from '@svidkit/core/jwt-svid'
 * const { id, audience, expiresAt } = parseJwtSvidInsecure(token)
 * console.log(`${id} for ${audience.join(', ')} until ${expiresAt.toISOString()}`)
 * ```
 */
export function parseJwtSvidInsecure(token: string, options: ParseJwtSvidInsecureOptions = {}): JwtSvid {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'options must be an object')
  }
  const expected = options.audience === undefined ? undefined : normalizeAudienceOption(options.audience)
  const skewMs = normalizeSkewOption(options.clockSkewSeconds, DEFAULT_CLOCK_SKEW_SECONDS)
  const maxTokenBytes = normalizeIntegerOption(
    options.maxTokenBytes,
    DEFAULT_MAX_TOKEN_BYTES,
    'maxTokenBytes',
  )
  const now = resolveAt(options.at)
  const decoded = decodeJwtSvid(token, maxTokenBytes)
  checkJwtSvidClaims(decoded, expected, now, skewMs)
  return toJwtSvid(decoded)
}
