import type { KeyObject, X509Certificate } from 'node:crypto'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'

/**
 * A workload's own X.509-SVID: its SPIFFE ID, certificate chain (leaf first) and private key, as
 * delivered by the Workload API or loaded from files.
 *
 * @example
 * ```ts
 * const svid: X509Svid = parseX509Svid(certPem, keyPem)
 * svid.id.toString()   // 'spiffe://example.org/web'
 * svid.expiresAt       // the leaf's notAfter
 * ```
 */
export interface X509Svid {
  /** The SPIFFE ID from the leaf's URI SAN. */
  readonly id: SpiffeId
  /** The chain, leaf first, then any intermediates. */
  readonly certificates: readonly X509Certificate[]
  /** The leaf's private key. */
  readonly privateKey: KeyObject
  /** The Workload API hint (an operator label such as `internal`), when there is one. */
  readonly hint?: string | undefined
  /** The leaf certificate's `notAfter`. */
  readonly expiresAt: Date
}

/**
 * Anything that can give the current X.509-SVID (go-spiffe `x509svid.Source`).
 *
 * @example
 * ```ts
 * const svid = parseX509Svid(readFileSync('svid.pem', 'utf8'), readFileSync('svid_key.pem', 'utf8'))
 * const source: X509SvidSource = { getX509Svid: () => svid }
 * createCallerVerifier({ bundles, self: source })
 * ```
 */
export interface X509SvidSource {
  /** The current SVID. Throws a `SourceError` when there is none to serve (closed, expired). */
  getX509Svid(): X509Svid
}
