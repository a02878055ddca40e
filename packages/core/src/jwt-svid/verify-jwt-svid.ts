import type { JwtBundleSource } from '../bundle/bundle-source.js'
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
  verifyJwtSvidSignature,
} from './decode-jwt-svid.js'
import type { JwtSvid } from './jwt-svid.js'

/**
 * Options for {@link verifyJwtSvid}.
 *
 * @example
 * ```ts
 * const options: VerifyJwtSvidOptions = { audience: ['spiffe://example.org/orders', 'orders'], clockSkewSeconds: 30 }
 * ```
 */
export interface VerifyJwtSvidOptions {
  /**
   * The audience this verifier identifies with, or several: the token passes when its `aud` contains
   * **any** of them. Required and non-empty (go-spiffe skips the check for an empty list; svidkit
   * throws `OptionsError`).
   */
  audience: string | readonly string[]
  /** The time to verify at. Default: now. */
  at?: Date
  /** Tolerance on `exp`, `nbf` and `iat`, in seconds. Default 60 (go-spiffe's leeway). */
  clockSkewSeconds?: number
  /** Largest token accepted, in bytes. Default 8192. */
  maxTokenBytes?: number
}

/**
 * Verifies a JWT-SVID (JWT-SVID §4) against the JWT bundle of the trust domain of its `sub`, and
 * returns it deeply frozen. Uncached: every call does the signature check; use
 * {@link createJwtSvidVerifier} for a verifier with a verified-token cache.
 *
 * Checks, in order:
 * 1. a string of at most `maxTokenBytes`, in the JWS compact serialization (the JSON serialization and
 *    JWE are refused), each segment unpadded base64url;
 * 2. `alg`, first: RS256/384/512, PS256/384/512 or ES256/384/512 only (`none`, HS*, EdDSA… refused);
 * 3. `typ` absent, `JWT` or `JOSE`; no `crit` (svidkit understands no JWS extension);
 * 4. `sub` present, `exp` present, `sub` a valid SPIFFE ID, `aud` present with at least one value;
 * 5. `aud` contains any expected audience; `nbf` and `iat` not after `at + skew`; `exp` after `at − skew`;
 * 6. `kid` present (the spec makes it optional, but the bundle lookup needs it; go-spiffe and
 *    java-spiffe require it too);
 * 7. a bundle for `sub`'s trust domain (only that one: a key of another trust domain never verifies a
 *    token, even with a matching `kid`), an authority for `kid` in it, a key that fits `alg` (ES256 ↔
 *    P-256, ES384 ↔ P-384, ES512 ↔ P-521, RS/PS ↔ RSA ≥ 2048 bits);
 * 8. the signature, with synchronous `node:crypto.verify` and the bundle's pre-imported key.
 *
 * Claims are checked before the signature so that malformed, expired or misaddressed tokens are
 * refused without paying for the cryptography; no result is returned unless every check passes.
 * Duplicate JSON members resolve to the last one (as `JSON.parse`, and go's `encoding/json`, do).
 * The returned `expiresAt` / `issuedAt` are `Date`s whose setters throw.
 *
 * @throws JwtSvidError with a code from the `jwtsvid` section of the status table
 *   (`ERR_JWT_SVID_EXPIRED`, `ERR_JWT_SVID_AUDIENCE_MISMATCH`, `ERR_JWT_SVID_SIGNATURE_INVALID`, …);
 *   OptionsError for invalid options.
 * @example
 * ```ts
 * import { verifyJwtSvid } from '@svidkit/core/jwt-svid'
 * const svid = verifyJwtSvid(token, bundleSet, { audience: 'spiffe://example.org/orders' })
 * svid.id.toString() // 'spiffe://example.org/ns/prod/sa/web'
 * svid.expiresAt     // Date
 * ```
 */
export function verifyJwtSvid(
  token: string,
  bundles: JwtBundleSource,
  options: VerifyJwtSvidOptions,
): JwtSvid {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'options with an audience are required')
  }
  checkBundleSource(bundles)
  const expected = expectedAudience(options.audience)
  const skewMs = normalizeSkewOption(options.clockSkewSeconds, DEFAULT_CLOCK_SKEW_SECONDS)
  const maxTokenBytes = normalizeIntegerOption(
    options.maxTokenBytes,
    DEFAULT_MAX_TOKEN_BYTES,
    'maxTokenBytes',
  )
  const now = resolveAt(options.at)
  const decoded = decodeJwtSvid(token, maxTokenBytes)
  checkJwtSvidClaims(decoded, expected, now, skewMs)
  verifyJwtSvidSignature(decoded, bundles)
  return toJwtSvid(decoded)
}

// The audience option is usually the same string on every call: normalize it once.
let lastAudienceOption: unknown
let lastExpected: readonly string[] = []

function expectedAudience(option: unknown): readonly string[] {
  if (option !== lastAudienceOption || typeof option !== 'string') {
    lastExpected = normalizeAudienceOption(option)
    lastAudienceOption = option
  }
  return lastExpected
}

/** @internal Throws `OptionsError` unless `bundles` is a JWT bundle source. */
export function checkBundleSource(bundles: unknown): asserts bundles is JwtBundleSource {
  if (
    typeof bundles !== 'object' ||
    bundles === null ||
    typeof (bundles as Partial<JwtBundleSource>).getJwtBundleForTrustDomain !== 'function'
  ) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'a JWT bundle source is required')
  }
}
