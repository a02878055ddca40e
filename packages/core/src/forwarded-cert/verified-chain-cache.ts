// Verifying an X.509-SVID chain costs ~150 µs (certificate parsing + signatures), far too much per
// request; proxies forward the same client certificate again and again. This bounded cache keeps a
// verification result, keyed by the SHA-256 of the header text it came from, until the earliest
// `notAfter` on the verified path, and only while the bundle object of that trust domain is the one it
// was verified with (a rotated bundle is a new object). Shared by the XFCC and forwarded-cert
// extractors. Not exported from the package.
import { createHash, hash, type X509Certificate } from 'node:crypto'
import type { X509BundleSource } from '../bundle/bundle-source.js'
import type { X509Bundle } from '../bundle/x509-bundle.js'
import { OptionsError } from '../errors/domain-errors.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import { verifyX509Svid } from '../x509-svid/verify-x509-svid.js'

/** The default number of verified chains an extractor remembers. */
export const DEFAULT_CERT_CACHE_SIZE = 256

/** A chain that verified as an X.509-SVID. */
export interface VerifiedChain {
  readonly id: SpiffeId
  /** `id.toString()`, kept for cheap comparisons. */
  readonly idText: string
  readonly leaf: X509Certificate
  /** The verified path: leaf, intermediates, bundle authority. */
  readonly chain: readonly X509Certificate[]
  /** Lowercase hex SHA-256 of the leaf's DER. */
  readonly leafSha256: string
  readonly expiresAt: Date
}

interface Entry {
  readonly verified: VerifiedChain
  readonly bundle: X509Bundle | undefined
  readonly validUntil: number
}

/** @internal Validates a `cacheSize` option. */
export function checkCacheSize(value: unknown, field: string): number {
  if (value === undefined) return DEFAULT_CERT_CACHE_SIZE
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${field} must be a non-negative integer`)
  }
  return value
}

/** @internal Validates a `clockSkewSeconds` option. */
export function checkClockSkew(value: unknown, field: string): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${field} must be a non-negative number`)
  }
  return value
}

/** @internal A cache key for the header text(s) a chain was decoded from. */
export function chainCacheKey(a: string | undefined, b: string | undefined): string {
  // One-shot hashing (~1 µs for a 1 KB certificate) is cheaper than a Hash object, and than using
  // the text itself as the key (V8 hashes a fresh 1 KB string more slowly).
  const text = `${a === undefined ? '\u0000' : `\u0001${a}`}${b === undefined ? '\u0000' : `\u0002${b}`}`
  return hash('sha256', text, 'base64')
}

/** @internal A bounded, insertion-ordered (LRU on hit) map of verified chains. */
export class VerifiedChainCache {
  readonly #max: number
  readonly #skewMs: number
  readonly #entries = new Map<string, Entry>()

  constructor(max: number, clockSkewSeconds: number) {
    this.#max = max
    this.#skewMs = clockSkewSeconds * 1000
  }

  /**
   * The verified chain for `key`, from the cache or by decoding (`decode`, which throws its own
   * domain error) and verifying (which throws `X509SvidError`).
   */
  verify(key: string, decode: () => X509Certificate[], bundles: X509BundleSource): VerifiedChain {
    const now = Date.now()
    if (this.#max > 0) {
      const hit = this.#entries.get(key)
      if (hit !== undefined) {
        if (
          now <= hit.validUntil &&
          bundles.getX509BundleForTrustDomain(hit.verified.id.trustDomain) === hit.bundle
        ) {
          this.#entries.delete(key)
          this.#entries.set(key, hit)
          return hit.verified
        }
        this.#entries.delete(key)
      }
    }
    const certs = decode()
    const result = verifyX509Svid(certs, bundles, {
      at: new Date(now),
      clockSkewSeconds: this.#skewMs / 1000,
    })
    const leaf = result.chain[0]!
    const verified: VerifiedChain = Object.freeze({
      id: result.id,
      idText: result.id.toString(),
      leaf,
      chain: result.chain,
      leafSha256: createHash('sha256').update(leaf.raw).digest('hex'),
      expiresAt: result.expiresAt,
    })
    if (this.#max > 0) {
      const bundle = bundles.getX509BundleForTrustDomain(result.trustDomain)
      if (this.#entries.size >= this.#max) {
        const oldest = this.#entries.keys().next()
        if (!oldest.done) this.#entries.delete(oldest.value)
      }
      this.#entries.set(key, { verified, bundle, validUntil: result.expiresAt.getTime() + this.#skewMs })
    }
    return verified
  }
}
