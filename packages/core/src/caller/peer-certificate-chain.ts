// Reads a TLS peer's certificate chain once per connection. Not exported from the package.
import { X509Certificate } from 'node:crypto'

/** The part of a `tls.TLSSocket` svidkit reads. */
export interface TlsSocketLike {
  readonly encrypted?: boolean
  getPeerCertificate?(detailed: true): { raw?: Buffer; issuerCertificate?: unknown } | null | undefined
}

/** The peer's chain (leaf first) as sent on the handshake, or `[]` when it presented none. */
export function peerCertificateChain(socket: TlsSocketLike): X509Certificate[] {
  if (typeof socket.getPeerCertificate !== 'function') return []
  let cert = socket.getPeerCertificate(true) as
    | { raw?: Buffer; issuerCertificate?: unknown }
    | null
    | undefined
  const chain: X509Certificate[] = []
  const seen = new Set<unknown>()
  while (cert?.raw && !seen.has(cert) && chain.length < 10) {
    seen.add(cert)
    chain.push(new X509Certificate(cert.raw))
    cert = cert.issuerCertificate as typeof cert
  }
  return chain
}
