import type { JwtBundleSource } from '../bundle/bundle-source.js'
import type { JwtBundle } from '../bundle/jwt-bundle.js'
import { type JwtTimes, timeFailure } from '../internal/jwt-claims.js'
import type { JwtSvid } from './jwt-svid.js'

/**
 * Cache counters of a `JwtSvidVerifier`.
 *
 * @example
 * ```ts
 * const { hits, misses } = verifier.cacheStats()
 * metrics.gauge('jwtsvid_cache_hit_ratio', hits / Math.max(1, hits + misses))
 * ```
 */
export interface JwtSvidCacheStats {
  /** Whether the verifier caches at all. */
  readonly enabled: boolean
  /** Entries held now. */
  readonly size: number
  /** Most entries held at once. */
  readonly maxEntries: number
  /** Verifications answered from the cache. */
  readonly hits: number
  /** Verifications that had to run in full (not held, expired, or bundle changed). */
  readonly misses: number
  /** Entries pushed out to stay within `maxEntries`. */
  readonly evictions: number
}

interface Entry {
  /** The exact token and audience key verified: a lookup under the same map key must match both. */
  readonly token: string
  readonly audienceKey: string
  readonly svid: JwtSvid
  /** The bundle object the signature was verified with: a different object from the source is a miss. */
  readonly bundle: JwtBundle
  readonly times: JwtTimes
  /** Second-chance bit: set on a hit, cleared when eviction passes over the entry. */
  used: boolean
}

/**
 * @internal The bounded verified-token cache behind `createJwtSvidVerifier`.
 *
 * - Map keys are short (the token's tail, see the verifier), so a lookup hashes a few dozen characters
 *   instead of the whole token; an entry holds the exact token and audience key it was verified for,
 *   and a lookup compares both in full, so two tokens (or two audiences) can never share a result.
 *   Tokens whose tails collide only compete for one slot (a miss, then a full verification); a token
 *   that fails verification is never inserted, so a forged token with a copied tail cannot push a
 *   good entry out. A cryptographic digest (sha256) would add ~0.3 µs per lookup and buy nothing.
 * - Eviction is second-chance (CLOCK), an LRU approximation that makes a hit a flag write instead of a
 *   `Map` delete + insert; expired entries are evicted first.
 * - A hit re-checks `nbf`, `exp` and `iat` at the caller's time with the caller's skew, and that the
 *   bundle source still returns the very bundle object the token was verified with (sources replace
 *   bundle objects on every update, so a rotation or a removal is a miss).
 * - Failures are never cached: a failure can turn into a success later (a bundle arrives, `nbf`
 *   passes), and caching attacker-chosen garbage would let it push out good entries. Cheap failures
 *   (malformed, expired, wrong audience) are refused before the signature check anyway.
 */
export class JwtSvidCache {
  readonly maxEntries: number
  readonly #entries = new Map<string, Entry>()
  #hits = 0
  #misses = 0
  #evictions = 0

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries
  }

  /**
   * The cached result for `key`, or `undefined` (counted as a miss) when it must be verified in full.
   * `realTime` says `nowMs` is the clock rather than a caller's `at`: only then is an expired entry
   * dropped (a question about a later time says nothing about the present).
   */
  lookup(
    key: string,
    token: string,
    audienceKey: string,
    nowMs: number,
    skewMs: number,
    bundles: JwtBundleSource,
    realTime: boolean,
  ): JwtSvid | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.token !== token || entry.audienceKey !== audienceKey) {
      this.#misses++
      return undefined
    }
    const failure = timeFailure(entry.times, nowMs, skewMs)
    if (failure !== undefined) {
      // Expired is final; "not yet valid" only happens when asked about an earlier time: keep it.
      if (failure === 'expired' && realTime) this.#entries.delete(key)
      this.#misses++
      return undefined
    }
    if (bundles.getJwtBundleForTrustDomain(entry.svid.id.trustDomain) !== entry.bundle) {
      this.#entries.delete(key)
      this.#misses++
      return undefined
    }
    entry.used = true
    this.#hits++
    return entry.svid
  }

  /** Stores a verified token. */
  insert(
    key: string,
    token: string,
    audienceKey: string,
    svid: JwtSvid,
    bundle: JwtBundle,
    times: JwtTimes,
    nowMs: number,
    skewMs: number,
  ): void {
    const entries = this.#entries
    entries.delete(key)
    while (entries.size >= this.maxEntries) this.#evictOne(nowMs, skewMs)
    entries.set(key, { token, audienceKey, svid, bundle, times, used: false })
  }

  #evictOne(nowMs: number, skewMs: number): void {
    const entries = this.#entries
    // Bounded: each pass clears one `used` bit, so after at most `size` steps an entry is evicted.
    for (;;) {
      const next = entries.entries().next()
      if (next.done) return
      const [key, entry] = next.value
      entries.delete(key)
      if (entry.used && timeFailure(entry.times, nowMs, skewMs) !== 'expired') {
        entry.used = false
        entries.set(key, entry)
        continue
      }
      this.#evictions++
      return
    }
  }

  /** Drops every entry, or those whose `sub` is in `trustDomain`; returns how many were dropped. */
  flush(trustDomain?: string): number {
    const entries = this.#entries
    if (trustDomain === undefined) {
      const n = entries.size
      entries.clear()
      return n
    }
    let n = 0
    for (const [key, entry] of entries) {
      if (entry.svid.id.trustDomain.name === trustDomain) {
        entries.delete(key)
        n++
      }
    }
    return n
  }

  stats(): JwtSvidCacheStats {
    return Object.freeze({
      enabled: true,
      size: this.#entries.size,
      maxEntries: this.maxEntries,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
    })
  }
}
