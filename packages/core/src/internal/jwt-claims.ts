// JWT claim checks shared by JWT-SVID (jwt-svid/) and OIDC (oidc/) verification: NumericDate times
// with clock skew, and audiences. Not exported from the package.
import { formatList, type JsonObject, type JwsErrorFactory, type JwsFailure, own } from './jws.js'

/** The NumericDate claims of a token, in milliseconds since the epoch (`undefined` when absent). */
export interface JwtTimes {
  readonly expMs: number | undefined
  readonly nbfMs: number | undefined
  readonly iatMs: number | undefined
}

/** Reads one NumericDate claim (RFC 7519 §2: a JSON number of seconds, fractions allowed) as ms. */
export function readNumericDate(claims: JsonObject, name: string, fail: JwsErrorFactory): number | undefined {
  const v = own(claims, name)
  if (v === undefined) return undefined
  // Beyond ±8.64e12 s a JavaScript Date cannot represent the time.
  if (typeof v !== 'number' || !(Math.abs(v) <= MAX_NUMERIC_DATE)) {
    throw fail('claim', `token has an invalid ${name} claim: not a NumericDate`)
  }
  return v * 1000
}

const MAX_NUMERIC_DATE = 8.64e12

/** Reads `exp`, `nbf` and `iat`; a missing `exp` fails with `exp_missing` when `requireExp`. */
export function readTimeClaims(claims: JsonObject, requireExp: boolean, fail: JwsErrorFactory): JwtTimes {
  const expMs = readNumericDate(claims, 'exp', fail)
  if (expMs === undefined && requireExp) throw fail('exp_missing', 'token missing exp claim')
  return { expMs, nbfMs: readNumericDate(claims, 'nbf', fail), iatMs: readNumericDate(claims, 'iat', fail) }
}

/**
 * Which time rule `times` breaks at `nowMs` with a tolerance of `skewMs`, or `undefined`. The rules
 * are RFC 7519's, each widened by the skew: valid while `now < exp + skew`, `now ≥ nbf − skew` and
 * `iat ≤ now + skew`. Used as is by caches, which must re-check time on every hit.
 */
export function timeFailure(times: JwtTimes, nowMs: number, skewMs: number): JwsFailure | undefined {
  if (times.nbfMs !== undefined && nowMs + skewMs < times.nbfMs) return 'not_yet_valid'
  if (times.expMs !== undefined && nowMs - skewMs >= times.expMs) return 'expired'
  if (times.iatMs !== undefined && nowMs + skewMs < times.iatMs) return 'issued_in_future'
  return undefined
}

/** Throws for the first time rule `times` breaks (see `timeFailure`). */
export function checkTimes(times: JwtTimes, nowMs: number, skewMs: number, fail: JwsErrorFactory): void {
  const failure = timeFailure(times, nowMs, skewMs)
  if (failure === undefined) return
  throw fail(
    failure,
    failure === 'expired'
      ? 'token has expired'
      : failure === 'not_yet_valid'
        ? 'token is not valid yet'
        : 'token issued in the future',
  )
}

/**
 * Reads `aud` (RFC 7519 §4.1.3): a string or an array of strings, as a frozen array. JWT-SVID §3.2
 * requires at least one value, so an absent or empty `aud` fails with `aud_missing`.
 */
export function readAudienceClaim(claims: JsonObject, fail: JwsErrorFactory): readonly string[] {
  const aud = own(claims, 'aud')
  if (typeof aud === 'string') return Object.freeze([aud])
  if (aud === undefined || (Array.isArray(aud) && aud.length === 0)) {
    throw fail('aud_missing', 'token missing audience claim')
  }
  if (!Array.isArray(aud)) throw fail('claim', 'token has an invalid aud claim: not a string or an array')
  for (const a of aud) {
    if (typeof a !== 'string') throw fail('claim', 'token has an invalid aud claim: not an array of strings')
  }
  return Object.freeze(aud as string[])
}

/**
 * Passes when **any** expected audience is in the token's `aud` (go-spiffe's AnyAudience). The
 * message is go-spiffe's: `expected audience in ["a"] (audience=["b"])`.
 */
export function matchAudience(
  tokenAudience: readonly string[],
  expected: readonly string[],
  fail: JwsErrorFactory,
): void {
  for (let i = 0; i < expected.length; i++) if (tokenAudience.includes(expected[i]!)) return
  throw fail(
    'aud_mismatch',
    `expected audience in ${formatList(expected)} (audience=${formatList(tokenAudience)})`,
  )
}
