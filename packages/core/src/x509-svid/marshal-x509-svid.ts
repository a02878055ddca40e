import { encodePem } from '../internal/pem.js'
import type { X509Svid } from './x509-svid.js'

/**
 * Writes an X.509-SVID as PEM, the way spiffe-helper writes `svid.pem` and `svid_key.pem`.
 *
 * @example
 * ```ts
 * const { certificates, privateKey } = marshalX509Svid(svid)
 * writeFileSync('svid.pem', certificates)
 * writeFileSync('svid_key.pem', privateKey, { mode: 0o600 })
 * ```
 */
export function marshalX509Svid(svid: X509Svid): { certificates: string; privateKey: string } {
  return {
    certificates: svid.certificates.map((c) => encodePem('CERTIFICATE', c.raw)).join(''),
    privateKey: svid.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  }
}
