// The JWT-SVID steps shared by verifyJwtSvid, parseJwtSvidInsecure and createJwtSvidVerifier:
// decode + structural checks, claim checks, signature check against the bundle of `sub`'s trust
// domain, and building the frozen result. Not exported from the package (not in index.ts).
import type { JwtBundleSource } from '../bundle/bundle-source.js'
import type { JwtBundle } from '../bundle/jwt-bundle.js'
import { JwtSvidError } from '../errors/domain-errors.js'
import type { ErrorCode } from '../errors/status-table.js'
import { SvidkitError } from '../errors/svidkit-error.js'
import { deepFreeze, immutableDate } from '../internal/freeze.js'
import {
  type CompactJws,
  checkAlgorithm,
  checkCritical,
  checkType,
  decodeJsonSegment,
  type JsonObject,
  type JwsAlgorithm,
  type JwsErrorFactory,
  type JwsFailure,
  own,
  prepareVerifyKey,
  quote,
  RecentHeaders,
  readKeyId,
  splitCompactJws,
  verifyJwsSignature,
} from '../internal/jws.js'
import {
  checkTimes,
  type JwtTimes,
  matchAudience,
  readAudienceClaim,
  readTimeClaims,
} from '../internal/jwt-claims.js'
import { StringMemo } from '../internal/string-memo.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { JwtSvid } from './jwt-svid.js'

/** Default tolerance on `exp`, `nbf` and `iat`: go-spiffe's `jwt.DefaultLeeway`. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60
/** Default largest token accepted, in bytes. */
export const DEFAULT_MAX_TOKEN_BYTES = 8192

const CODES: Record<JwsFailure, ErrorCode> = {
  malformed: 'ERR_JWT_SVID_MALFORMED',
  too_large: 'ERR_JWT_SVID_TOO_LARGE',
  alg: 'ERR_JWT_SVID_ALG_NOT_ALLOWED',
  typ: 'ERR_JWT_SVID_TYP_INVALID',
  crit: 'ERR_JWT_SVID_CRIT_UNSUPPORTED',
  kid: 'ERR_JWT_SVID_KID_MISSING',
  aud_missing: 'ERR_JWT_SVID_AUD_MISSING',
  aud_mismatch: 'ERR_JWT_SVID_AUDIENCE_MISMATCH',
  exp_missing: 'ERR_JWT_SVID_EXP_MISSING',
  expired: 'ERR_JWT_SVID_EXPIRED',
  not_yet_valid: 'ERR_JWT_SVID_NOT_YET_VALID',
  issued_in_future: 'ERR_JWT_SVID_ISSUED_IN_FUTURE',
  claim: 'ERR_JWT_SVID_CLAIM_INVALID',
  key_alg: 'ERR_JWT_SVID_KEY_ALG_MISMATCH',
  signature: 'ERR_JWT_SVID_SIGNATURE_INVALID',
}

/** The JWS error factory of the `jwtsvid` domain. */
export const jwtSvidFail: JwsErrorFactory = (failure, reason, cause) =>
  new JwtSvidError(CODES[failure], reason, cause === undefined ? {} : { cause })

const TYPES = ['JWT', 'JOSE'] as const

// A signer sends the same header (alg, kid, typ) on every token, and a workload the same `sub`: both
// are decoded and checked once, then recognised by their exact text.
const checkedHeaders = new RecentHeaders<{ readonly header: JsonObject; readonly alg: JwsAlgorithm }>(8)
const parsedIds = new StringMemo<SpiffeId>(1024)

/** A token that passed the structural checks, before claims, time and signature are checked. */
export interface DecodedJwtSvid {
  readonly jws: CompactJws
  readonly header: JsonObject
  readonly alg: JwsAlgorithm
  readonly claims: JsonObject
  readonly id: SpiffeId
  readonly audience: readonly string[]
  readonly times: JwtTimes
}

/**
 * Structural checks, in this order: size and compact serialization; `alg` in the allowlist (before
 * anything else in the token is looked at); `typ`; `crit`; then the payload: `sub` present, `exp`
 * present, `sub` a SPIFFE ID, `aud` present. go-spiffe's order for the checks both make.
 */
export function decodeJwtSvid(token: unknown, maxTokenBytes: number): DecodedJwtSvid {
  const jws = splitCompactJws(token, maxTokenBytes, jwtSvidFail)
  const { header, alg } = checkHeader(jws)
  const claims = decodeJsonSegment(jws.token, jws.dot1 + 1, jws.dot2, 'payload', jwtSvidFail)
  const sub = own(claims, 'sub')
  if (sub === undefined) throw new JwtSvidError('ERR_JWT_SVID_SUB_MISSING', 'token missing subject claim')
  const times = readTimeClaims(claims, true, jwtSvidFail)
  if (typeof sub !== 'string') {
    throw new JwtSvidError('ERR_JWT_SVID_SUB_INVALID', 'token has an invalid subject claim: not a string')
  }
  let id = parsedIds.get(sub)
  if (id === undefined) {
    try {
      id = SpiffeId.parse(sub)
    } catch (cause) {
      const why = cause instanceof SvidkitError ? cause.reason : 'invalid SPIFFE ID'
      throw new JwtSvidError('ERR_JWT_SVID_SUB_INVALID', `token has an invalid subject claim: ${why}`, {
        cause,
      })
    }
    parsedIds.set(sub, id)
  }
  const audience = readAudienceClaim(claims, jwtSvidFail)
  return { jws, header, alg, claims, id, audience, times }
}

// `alg` first (JWT-SVID §4), then `typ` and `crit`. Only headers that pass are memoized, frozen.
function checkHeader(jws: CompactJws): { readonly header: JsonObject; readonly alg: JwsAlgorithm } {
  let checked = checkedHeaders.find(jws)
  if (checked === undefined) {
    const header = decodeJsonSegment(jws.token, 0, jws.dot1, 'header', jwtSvidFail)
    const alg = checkAlgorithm(header, jwtSvidFail)
    checkType(header, TYPES, jwtSvidFail)
    checkCritical(header, jwtSvidFail)
    checked = { header: deepFreeze(header), alg }
    checkedHeaders.remember(jws, checked)
  }
  return checked
}

/**
 * Claim checks, go-jose's order: audience (any-of; skipped only when `expected` is `undefined`, which
 * only the insecure parse allows), then `nbf`, `exp`, `iat` at `nowMs` ± `skewMs`.
 */
export function checkJwtSvidClaims(
  decoded: DecodedJwtSvid,
  expected: readonly string[] | undefined,
  nowMs: number,
  skewMs: number,
): void {
  if (expected !== undefined) matchAudience(decoded.audience, expected, jwtSvidFail)
  checkTimes(decoded.times, nowMs, skewMs, jwtSvidFail)
}

/**
 * Signature check against the bundle of the trust domain of `sub` and nothing else (JWT-SVID §6.2):
 * `kid` present, a bundle for the trust domain, an authority for `kid` in it, a key that fits `alg`,
 * then node:crypto.verify. Returns the bundle used, for caches.
 */
export function verifyJwtSvidSignature(decoded: DecodedJwtSvid, bundles: JwtBundleSource): JwtBundle {
  const kid = readKeyId(decoded.header, jwtSvidFail)
  const td = decoded.id.trustDomain
  const bundle = bundles.getJwtBundleForTrustDomain(td)
  if (bundle === undefined || bundle === null) {
    throw new JwtSvidError('ERR_JWT_SVID_NO_BUNDLE', `no bundle found for trust domain "${td.name}"`)
  }
  const authority = bundle.findAuthority(kid)
  if (authority === undefined) {
    throw new JwtSvidError(
      'ERR_JWT_SVID_KEY_NOT_FOUND',
      `no JWT authority ${quote(kid)} found for trust domain "${td.name}"`,
    )
  }
  verifyJwsSignature(
    decoded.jws,
    prepareVerifyKey(authority.publicKey, decoded.alg, jwtSvidFail),
    jwtSvidFail,
  )
  return bundle
}

/** The deeply frozen `JwtSvid` for a decoded token. */
export function toJwtSvid(decoded: DecodedJwtSvid): JwtSvid {
  const { expMs, iatMs } = decoded.times
  return Object.freeze({
    id: decoded.id,
    audience: decoded.audience,
    expiresAt: immutableDate(expMs!),
    issuedAt: iatMs === undefined ? undefined : immutableDate(iatMs),
    claims: deepFreeze(decoded.claims),
    token: decoded.jws.token,
  })
}
