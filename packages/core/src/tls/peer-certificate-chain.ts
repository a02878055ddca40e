// Reads a TLS peer's certificate chain once per connection. `peerCertificateChain` is internal;
// `TlsSocketLike` is public (the type of `CallerCredentials.socket`).
import { X509Certificate } from 'node:crypto'

/**
 * The part of a `tls.TLSSocket` svidkit reads.
 *
 * @example
 * ```ts
 * const socket: TlsSocketLike = tlsSocket // a tls.TLSSocket, e.g. `req.socket` of an https server
 * await verifier.verifyCaller({ operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' }, socket })
 * ```
 */
export interface TlsSocketLike {
  readonly encrypted?: boolean
  /** The peer's address (any `net.Socket` has it; a plain HTTP socket simply has no certificate). */
  readonly remoteAddress?: string | undefined
  getPeerX509Certificate?(): X509Certificate | undefined
  getPeerCertificate?(detailed: true): { raw?: Buffer; issuerCertificate?: unknown } | null | undefined
}

const MAX_CHAIN = 10

/**
 * The peer's chain (leaf first) as sent on the handshake, or `[]` when it presented none. Prefers
 * `getPeerX509Certificate()` and its `issuerCertificate` links (objects Node builds straight from the
 * TLS session, about 1 µs), and falls back to re-parsing `getPeerCertificate(true)`'s DER.
 */
export function peerCertificateChain(socket: TlsSocketLike): X509Certificate[] {
  if (typeof socket.getPeerX509Certificate === 'function') {
    const leaf = socket.getPeerX509Certificate()
    if (!leaf) return []
    const chain = [leaf]
    const seen = new Set([leaf.fingerprint256])
    for (
      let c = leaf.issuerCertificate;
      c && !seen.has(c.fingerprint256) && chain.length < MAX_CHAIN;
      c = c.issuerCertificate
    ) {
      seen.add(c.fingerprint256)
      chain.push(c)
    }
    return chain
  }
  if (typeof socket.getPeerCertificate !== 'function') return []
  let cert = socket.getPeerCertificate(true) as
    | { raw?: Buffer; issuerCertificate?: unknown }
    | null
    | undefined
  const chain: X509Certificate[] = []
  const seen = new Set<unknown>()
  while (cert?.raw && !seen.has(cert) && chain.length < MAX_CHAIN) {
    seen.add(cert)
    chain.push(new X509Certificate(cert.raw))
    cert = cert.issuerCertificate as typeof cert
  }
  return chain
}
