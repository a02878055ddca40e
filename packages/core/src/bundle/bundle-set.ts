import { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { JwtBundleSource, X509BundleSource } from './bundle-source.js'
import type { JwtBundle } from './jwt-bundle.js'
import { SpiffeBundle } from './spiffe-bundle.js'
import { X509Bundle } from './x509-bundle.js'

/**
 * A bundle of any kind that a {@link BundleSet} can hold.
 *
 * @example
 * ```ts
 * const bundles: AnyBundle[] = [X509Bundle.fromPem('a.test', pemA), JwtBundle.fromJwks('b.test', jwksB)]
 * const set = new BundleSet(bundles)
 * ```
 */
export type AnyBundle = X509Bundle | JwtBundle | SpiffeBundle

/**
 * Bundles of several trust domains (federation), one per trust domain and kind. Bundles of
 * different trust domains are never merged: a lookup only ever returns the bundle of the trust domain
 * asked for. Implements both bundle source interfaces.
 *
 * @example
 * ```ts
 * import { BundleSet, X509Bundle } from '@svidkit/core/bundle'
 * const set = new BundleSet([X509Bundle.fromPem('a.test', pemA), X509Bundle.fromPem('b.test', pemB)])
 * set.trustDomains() // ['a.test', 'b.test'] (TrustDomain objects)
 * ```
 */
export class BundleSet implements X509BundleSource, JwtBundleSource {
  readonly #x509 = new Map<string, X509Bundle>()
  readonly #jwt = new Map<string, JwtBundle>()
  readonly #spiffe = new Map<string, SpiffeBundle>()

  constructor(bundles: Iterable<AnyBundle> = []) {
    for (const b of bundles) this.add(b)
  }

  /** Adds or replaces the bundle(s) of `bundle`'s trust domain (a SpiffeBundle sets both parts). */
  add(bundle: AnyBundle): this {
    const td = bundle.trustDomain.name
    if (bundle instanceof SpiffeBundle) {
      this.#spiffe.set(td, bundle)
      this.#x509.set(td, bundle.x509Bundle())
      this.#jwt.set(td, bundle.jwtBundle())
    } else if (bundle instanceof X509Bundle) {
      this.#spiffe.delete(td)
      this.#x509.set(td, bundle)
    } else {
      this.#spiffe.delete(td)
      this.#jwt.set(td, bundle)
    }
    return this
  }

  /** Removes every bundle of a trust domain. */
  remove(trustDomain: TrustDomain | string): boolean {
    const td = typeof trustDomain === 'string' ? trustDomain : trustDomain.name
    const had = this.#x509.has(td) || this.#jwt.has(td)
    this.#x509.delete(td)
    this.#jwt.delete(td)
    this.#spiffe.delete(td)
    return had
  }

  /** Whether any bundle is held for the trust domain. */
  has(trustDomain: TrustDomain | string): boolean {
    const td = typeof trustDomain === 'string' ? trustDomain : trustDomain.name
    return this.#x509.has(td) || this.#jwt.has(td)
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle | undefined {
    return this.#x509.get(trustDomain.name)
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle | undefined {
    return this.#jwt.get(trustDomain.name)
  }

  /** The SPIFFE bundle of a trust domain (joining its X.509 and JWT parts). */
  getSpiffeBundle(trustDomain: TrustDomain | string): SpiffeBundle | undefined {
    const td = typeof trustDomain === 'string' ? trustDomain : trustDomain.name
    const held = this.#spiffe.get(td)
    if (held) return held
    const x509 = this.#x509.get(td)
    const jwt = this.#jwt.get(td)
    if (!x509 && !jwt) return undefined
    return SpiffeBundle.from({ ...(x509 ? { x509 } : {}), ...(jwt ? { jwt } : {}) })
  }

  /** The trust domains held, sorted by name. */
  trustDomains(): TrustDomain[] {
    return [...new Set([...this.#x509.keys(), ...this.#jwt.keys()])].sort().map((n) => TrustDomain.parse(n))
  }

  /** Number of trust domains held. */
  get size(): number {
    return new Set([...this.#x509.keys(), ...this.#jwt.keys()]).size
  }

  /** Every trust domain's SPIFFE bundle. */
  *[Symbol.iterator](): IterableIterator<SpiffeBundle> {
    for (const td of this.trustDomains()) {
      const b = this.getSpiffeBundle(td)
      if (b) yield b
    }
  }
}
