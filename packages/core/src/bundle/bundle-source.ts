import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { JwtBundle } from './jwt-bundle.js'
import type { X509Bundle } from './x509-bundle.js'

/**
 * Anything that can give the X.509 bundle of a trust domain: a single `X509Bundle`, a `BundleSet`,
 * a `SpiffeBundle`, or a live Workload API source. Verifiers depend on this one-method interface,
 * never on a concrete type (go-spiffe `x509bundle.Source`). Returns `undefined` when the trust domain
 * is unknown; the verifier then refuses the peer.
 *
 * @example
 * ```ts
 * const source: X509BundleSource = new BundleSet([bundle])
 * source.getX509BundleForTrustDomain(TrustDomain.parse('example.org'))
 * ```
 */
export interface X509BundleSource {
  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle | undefined
}

/**
 * Anything that can give the JWT bundle (keys by `kid`) of a trust domain (go-spiffe `jwtbundle.Source`).
 *
 * @example
 * ```ts
 * const source: JwtBundleSource = JwtBundle.fromJwks(td, jwksJson)
 * ```
 */
export interface JwtBundleSource {
  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle | undefined
}
