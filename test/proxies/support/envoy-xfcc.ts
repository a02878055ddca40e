// Envoy-shaped XFCC elements, written the way Envoy's connection manager writes them (Envoy itself has
// no Debian package): `By` per proxy URI SAN, `Hash` as lowercase hex SHA-256 of the leaf DER, `Cert`
// quoted with Envoy's fixed five-character escaping, `Subject` quoted (RFC 2253), `URI` unquoted.
import { createHash, type X509Certificate } from 'node:crypto'

/** Envoy's "URL encoding" of PEM: \n, space, +, / and = only (and \r dropped). */
export function envoyEscapePem(pem: string): string {
  return pem
    .replace(/\r/g, '')
    .replace(/[\n +/=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
}

export interface EnvoyElementInput {
  /** The proxy's own URI SAN (`By`). */
  readonly by: string
  /** The client's leaf: gives `Hash` (and `Cert` when `withCert`). */
  readonly leaf: X509Certificate
  /** The `URI` to write (normally the leaf's URI SAN; something else to test a mismatch). */
  readonly uri: string
  /** Write `Cert` (Istio gateways: yes; sidecars: no). */
  readonly withCert?: boolean
}

export function envoyElement(input: EnvoyElementInput): string {
  const hash = createHash('sha256').update(input.leaf.raw).digest('hex')
  const cert = input.withCert ? `;Cert="${envoyEscapePem(input.leaf.toString())}"` : ''
  return `By=${input.by};Hash=${hash}${cert};Subject="O=svidkit test";URI=${input.uri}`
}
