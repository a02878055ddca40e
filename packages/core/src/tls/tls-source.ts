import type { X509BundleSource } from '../bundle/bundle-source.js'
import type { X509Bundle } from '../bundle/x509-bundle.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { X509SvidSource } from '../x509-svid/x509-svid.js'

/**
 * Every X.509 bundle a source holds, as `BundleSet` (and so the `bundles` property of `StaticSource`,
 * `FileSource` and the Workload API `X509Source`) exposes them. A TLS client needs the whole list: it
 * cannot know the server's trust domain before the handshake.
 *
 * @example
 * ```ts
 * const list: X509BundleList = new BundleSet([caA.x509Bundle(), caB.x509Bundle()])
 * ```
 */
export interface X509BundleList {
  trustDomains(): readonly TrustDomain[]
  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle | undefined
}

/**
 * What the mTLS servers and clients read: the current X.509-SVID (`getX509Svid()`) and the bundle of a
 * trust domain (`getX509BundleForTrustDomain()`), read again on every new connection. `StaticSource`,
 * `FileSource` and the Workload API `X509Source` all fit.
 *
 * Optional parts: `on('update')` lets a server swap its certificate as soon as the source rotates
 * (otherwise it notices on the next connection), and `bundles` lets a client list every trust
 * domain's authorities (otherwise pass `trustDomains`).
 *
 * @example
 * ```ts
 * import { StaticSource } from '@svidkit/core/source'
 * const source: TlsSource = new StaticSource({ svid, bundles: ca.bundleSet() })
 * ```
 */
export interface TlsSource extends X509SvidSource, X509BundleSource {
  /** Every bundle held; read by clients to build the OpenSSL trust store. */
  readonly bundles?: X509BundleList
  /** Rotation notifications (a `LiveSource`). */
  on?(event: 'update', listener: () => void): unknown
  /** Removes a rotation listener. */
  off?(event: 'update', listener: () => void): unknown
}
