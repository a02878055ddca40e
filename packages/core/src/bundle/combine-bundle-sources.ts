import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { JwtBundleSource, X509BundleSource } from './bundle-source.js'
import type { JwtBundle } from './jwt-bundle.js'
import type { X509Bundle } from './x509-bundle.js'

/**
 * Joins bundle sources into one that implements both interfaces: for each trust domain and kind, the
 * first source (in order) that has a bundle answers. Sources are read on every lookup, so live sources
 * stay live. Bundles of different trust domains are never merged, and neither are two sources' bundles
 * of the same kind for one trust domain.
 *
 * @example
 * ```ts
 * // X.509 bundles from the workload's own X509Source, JWT bundles from a BundleSource:
 * const bundles = combineBundleSources(x509Source, await BundleSource.create({ x509: false }))
 * createCallerVerifier({ bundles, jwt: { audience: 'orders' } })
 * ```
 */
export function combineBundleSources(
  ...sources: readonly (Partial<X509BundleSource & JwtBundleSource> & (X509BundleSource | JwtBundleSource))[]
): X509BundleSource & JwtBundleSource {
  const x509 = sources.filter(
    (s): s is X509BundleSource => typeof s.getX509BundleForTrustDomain === 'function',
  )
  const jwt = sources.filter((s): s is JwtBundleSource => typeof s.getJwtBundleForTrustDomain === 'function')
  return Object.freeze({
    getX509BundleForTrustDomain(td: TrustDomain): X509Bundle | undefined {
      for (const s of x509) {
        const b = s.getX509BundleForTrustDomain(td)
        if (b) return b
      }
      return undefined
    },
    getJwtBundleForTrustDomain(td: TrustDomain): JwtBundle | undefined {
      for (const s of jwt) {
        const b = s.getJwtBundleForTrustDomain(td)
        if (b) return b
      }
      return undefined
    },
  })
}
