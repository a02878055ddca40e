import type { X509Certificate } from 'node:crypto'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import { certInfo, idFromInfo } from './leaf-rules.js'

/**
 * Reads the SPIFFE ID of a certificate: its one URI SAN (counted from DER, not from Node's
 * comma-joined `subjectAltName` string). Does **not** verify anything.
 *
 * @throws X509SvidError `ERR_X509_SVID_NO_URI_SAN`, `ERR_X509_SVID_MULTIPLE_URI_SANS`, `ERR_X509_SVID_INVALID_ID`.
 * @example
 * ```ts
 * getX509SvidId(new X509Certificate(pem)).toString() // 'spiffe://example.org/web'
 * ```
 */
export function getX509SvidId(certificate: X509Certificate): SpiffeId {
  return idFromInfo(certInfo(certificate, 'leaf'))
}
