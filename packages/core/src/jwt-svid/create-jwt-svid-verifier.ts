import type { JwtBundleSource } from '../bundle/bundle-source.js'
import { OptionsError } from '../errors/domain-errors.js'
import {
  normalizeAudienceOption,
  normalizeIntegerOption,
  normalizeSkewOption,
  resolveAt,
} from '../internal/options.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'
import {
  checkJwtSvidClaims,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_TOKEN_BYTES,
  decodeJwtSvid,
  toJwtSvid,
  verifyJwtSvidSignature,
} from './decode-jwt-svid.js'
import type { JwtSvid } from './jwt-svid.js'
import { JwtSvidCache, type JwtSvidCacheStats } from './jwt-svid-cache.js'
import { checkBundleSource } from './verify-jwt-svid.js'

/**
 * Options of the verified-token cache of {@link createJwtSvidVerifier}.
 *
 * @example
 * ```ts
 * createJwtSvidVerifier({ bundles, audience: 'orders', cache: { maxEntries: 10_000 } })
 * ```
 */
export interface JwtSvidCacheOptions {
  /** Most tokens held at once (second-chance LRU beyond). Default 1000. */
  maxEntries?: number
}

/**
 * Options for {@link createJwtSvidVerifier}. Validated when the verifier is created.
 *
 * @example
 * ```ts
 * const options: JwtSvidVerifierOptions = { bundles: workloadApiSource, audience: 'spiffe://example.org/orders' }
 * ```
 */
export interface JwtSvidVerifierOptions {
  /** Where the JWT bundle of each trust domain comes from (a `BundleSet`, a live source…). */
  bundles: JwtBundleSource
  /** The audience this service identifies with, or several (any-of). Required, non-empty. */
  audience: string | readonly string[]
  /** Tolerance on `exp`, `nbf` and `iat`, in seconds. Default 60. */
  clockSkewSeconds?: number
  /** Largest token accepted, in bytes. Default 8192. */
  maxTokenBytes?: number
  /** The verified-token cache: on by default; `false` turns it off. */
  cache?: false | JwtSvidCacheOptions
}

/**
 * Per-call options of {@link JwtSvidVerifier.verify}.
 *
 * @example
 * ```ts
 * verifier.verify(token, { audience: 'spiffe://example.org/billing' })
 * ```
 */
export interface JwtSvidVerifyCallOptions {
  /** The time to verify at. Default: now. */
  at?: Date
  /** Overrides the verifier's audience for this call (the cache keys on it). */
  audience?: string | readonly string[]
}

/**
 * A reusable JWT-SVID verifier; see {@link createJwtSvidVerifier}.
 *
 * @example
 * ```ts
 * function authenticate(verifier: JwtSvidVerifier, authorization: string) {
 *   return verifier.verify(authorization.replace(/^Bearer /, '')).id
 * }
 * ```
 */
export interface JwtSvidVerifier {
  /**
   * Verifies a JWT-SVID exactly as `verifyJwtSvid` does, answering repeated tokens from the cache.
   * Returns a deeply frozen result (the same object on a cache hit).
   */
  verify(token: string, options?: JwtSvidVerifyCallOptions): JwtSvid
  /** Cache counters (`enabled: false` and zeros when the cache is off). */
  cacheStats(): JwtSvidCacheStats
  /** Drops cached tokens: all of them, or those whose `sub` is in `trustDomain`. Returns how many. */
  flushCache(trustDomain?: TrustDomain | string): number
}

const DEFAULT_MAX_ENTRIES = 1000

const DISABLED: JwtSvidCacheStats = Object.freeze({
  enabled: false,
  size: 0,
  maxEntries: 0,
  hits: 0,
  misses: 0,
  evictions: 0,
})

// A self-delimiting key for the expected audiences: a cache entry holds it, and a hit must match it.
function keyPrefix(expected: readonly string[]): string {
  const s = JSON.stringify(expected)
  return `${s.length}:${s}`
}

// The cache's map key is the token's last KEY_TAIL characters (the end of its signature), behind the
// audience key only for a per-call audience. Hashing a fresh 300–1000 character `audience key + token`
// string on every lookup cost about 1 µs (a third of an HTTP request's svidkit time on a hit); a tail
// costs a few tens of nanoseconds. A hit still requires the exact token and audience key (the cache
// compares both), so distinct tokens never share a result; equal tails only make them share a slot.
const KEY_TAIL = 32

function cacheKey(token: string, prefix: string, defaultPrefix: string): string {
  const tail = token.length <= KEY_TAIL ? token : token.slice(token.length - KEY_TAIL)
  return prefix === defaultPrefix ? tail : prefix + tail
}

/**
 * Creates a JWT-SVID verifier with options validated once, and a **verified-token cache** on by
 * default: JWT-SVID clients reuse a token for minutes, so most verifications repeat, and a hit costs
 * about 1 µs instead of a signature check (≈ 25 µs RS256, ≈ 70 µs ES256; see bench/README.md).
 *
 * The cache is bounded (`maxEntries`, default 1000, second-chance LRU) and keyed on the exact token and
 * the expected audiences. A hit is only served while the token is still within `exp` (+ skew), `nbf`
 * and `iat` at the time of the call, and while the bundle source still returns the same bundle object
 * for the token's trust domain (sources replace the object on every update, so a key rotation or
 * removal flushes the trust domain's tokens lazily; `flushCache(td)` does it at once). Failures are
 * never cached. Results are deeply frozen, so sharing them between callers is safe.
 *
 * @throws OptionsError when the options are invalid (at creation), or a per-call option is.
 * @example
 * ```ts
 * import { createJwtSvidVerifier } from '@svidkit/core/jwt-svid'
 * const verifier = createJwtSvidVerifier({ bundles: bundleSet, audience: 'spiffe://example.org/orders' })
 * const svid = verifier.verify(token) // throws JwtSvidError when the token is not acceptable
 * verifier.cacheStats()               // { enabled: true, size: 1, hits: 0, misses: 1, … }
 * verifier.flushCache('example.org')
 * ```
 */
export function createJwtSvidVerifier(options: JwtSvidVerifierOptions): JwtSvidVerifier {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'options with bundles and an audience are required')
  }
  const bundles = options.bundles
  checkBundleSource(bundles)
  const defaultExpected = normalizeAudienceOption(options.audience)
  const defaultPrefix = keyPrefix(defaultExpected)
  const skewMs = normalizeSkewOption(options.clockSkewSeconds, DEFAULT_CLOCK_SKEW_SECONDS)
  const maxTokenBytes = normalizeIntegerOption(
    options.maxTokenBytes,
    DEFAULT_MAX_TOKEN_BYTES,
    'maxTokenBytes',
  )
  let cache: JwtSvidCache | undefined
  if (options.cache !== false) {
    if (options.cache !== undefined && (typeof options.cache !== 'object' || options.cache === null)) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'cache must be false or { maxEntries?: number }')
    }
    cache = new JwtSvidCache(
      normalizeIntegerOption(options.cache?.maxEntries, DEFAULT_MAX_ENTRIES, 'cache.maxEntries'),
    )
  }

  const verify = (token: string, call?: JwtSvidVerifyCallOptions): JwtSvid => {
    let now: number
    let expected = defaultExpected
    let prefix = defaultPrefix
    if (call === undefined) now = Date.now()
    else {
      if (typeof call !== 'object' || call === null) {
        throw new OptionsError('ERR_OPTIONS_INVALID', 'verify options must be an object')
      }
      now = resolveAt(call.at)
      if (call.audience !== undefined) {
        expected = normalizeAudienceOption(call.audience)
        prefix = keyPrefix(expected)
      }
    }
    const key =
      cache !== undefined && typeof token === 'string' && token.length <= maxTokenBytes
        ? cacheKey(token, prefix, defaultPrefix)
        : undefined
    if (key !== undefined) {
      const hit = cache!.lookup(key, token, prefix, now, skewMs, bundles, call?.at === undefined)
      if (hit !== undefined) return hit
    }
    const decoded = decodeJwtSvid(token, maxTokenBytes)
    checkJwtSvidClaims(decoded, expected, now, skewMs)
    const bundle = verifyJwtSvidSignature(decoded, bundles)
    const svid = toJwtSvid(decoded)
    if (key !== undefined) cache!.insert(key, token, prefix, svid, bundle, decoded.times, now, skewMs)
    return svid
  }

  return Object.freeze({
    verify,
    cacheStats: (): JwtSvidCacheStats => (cache === undefined ? DISABLED : cache.stats()),
    flushCache: (trustDomain?: TrustDomain | string): number => {
      if (cache === undefined) return 0
      if (trustDomain === undefined) return cache.flush()
      return cache.flush(
        typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain).name : trustDomain.name,
      )
    },
  })
}
