// The X509-SVID profile checks shared by parsing (own SVID) and verification (peers). Not exported.
import type { X509Certificate } from 'node:crypto'
import { X509SvidError } from '../errors/domain-errors.js'
import { type CertificateInfo, getCertificateInfo } from '../internal/certificate-info.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'

export function certInfo(cert: X509Certificate, position: string): CertificateInfo {
  try {
    return getCertificateInfo(cert)
  } catch (cause) {
    throw new X509SvidError('ERR_X509_SVID_MALFORMED', `unable to parse ${position} certificate`, { cause })
  }
}

/** X509-SVID §2: exactly one URI SAN, and it is a SPIFFE ID. */
export function idFromInfo(info: CertificateInfo): SpiffeId {
  if (info.uris.length === 0)
    throw new X509SvidError('ERR_X509_SVID_NO_URI_SAN', 'certificate contains no URI SAN')
  if (info.uris.length > 1) {
    throw new X509SvidError('ERR_X509_SVID_MULTIPLE_URI_SANS', 'certificate contains more than one URI SAN')
  }
  try {
    return SpiffeId.parse(info.uris[0]!)
  } catch (cause) {
    throw new X509SvidError(
      'ERR_X509_SVID_INVALID_ID',
      `URI SAN is not a valid SPIFFE ID: ${(cause as Error).message}`,
      {
        cause,
      },
    )
  }
}

export interface LeafRuleOptions {
  requireCriticalKeyUsage: boolean
  enforceExtKeyUsage: boolean
}

/** X509-SVID §3.1, §4.1, §4.3, §4.4, §5.2: the leaf profile. */
export function checkLeaf(info: CertificateInfo, id: SpiffeId, options: LeafRuleOptions): void {
  if (id.isRoot)
    throw new X509SvidError('ERR_X509_SVID_ROOT_PATH', 'leaf certificate SPIFFE ID must have a non-root path')
  if (info.isCA)
    throw new X509SvidError('ERR_X509_SVID_LEAF_IS_CA', 'leaf certificate must not have CA flag set to true')
  const ku = info.keyUsage
  if (!ku.present)
    throw new X509SvidError('ERR_X509_SVID_KEY_USAGE_MISSING', 'leaf certificate has no key usage extension')
  if (options.requireCriticalKeyUsage && !ku.critical) {
    throw new X509SvidError(
      'ERR_X509_SVID_KEY_USAGE_NOT_CRITICAL',
      'leaf certificate key usage extension is not critical',
    )
  }
  if (ku.keyCertSign) {
    throw new X509SvidError(
      'ERR_X509_SVID_LEAF_KEY_CERT_SIGN',
      "leaf certificate must not have 'keyCertSign' set as key usage",
    )
  }
  if (ku.cRLSign) {
    throw new X509SvidError(
      'ERR_X509_SVID_LEAF_CRL_SIGN',
      "leaf certificate must not have 'cRLSign' set as key usage",
    )
  }
  if (!ku.digitalSignature) {
    throw new X509SvidError(
      'ERR_X509_SVID_LEAF_NO_DIGITAL_SIGNATURE',
      "leaf certificate must have 'digitalSignature' set as key usage",
    )
  }
  if (options.enforceExtKeyUsage && info.extKeyUsage !== undefined) {
    const eku = info.extKeyUsage
    if (!eku.includes('1.3.6.1.5.5.7.3.1') || !eku.includes('1.3.6.1.5.5.7.3.2')) {
      throw new X509SvidError(
        'ERR_X509_SVID_EXT_KEY_USAGE',
        'leaf certificate extended key usage must include serverAuth and clientAuth',
      )
    }
  }
  if (info.unhandledCritical.length > 0) {
    throw new X509SvidError(
      'ERR_X509_SVID_CRITICAL_EXTENSION',
      `leaf certificate has an unhandled critical extension ${info.unhandledCritical[0]}`,
    )
  }
}

/** X509-SVID §4.1, §4.3: a signing certificate (intermediate or authority). */
export function checkSigner(info: CertificateInfo, what: string): void {
  if (!info.isCA)
    throw new X509SvidError('ERR_X509_SVID_SIGNER_NOT_CA', `${what} must have CA flag set to true`)
  if (!info.keyUsage.keyCertSign) {
    throw new X509SvidError(
      'ERR_X509_SVID_SIGNER_NO_KEY_CERT_SIGN',
      `${what} must have 'keyCertSign' set as key usage`,
    )
  }
  if (info.unhandledCritical.length > 0) {
    throw new X509SvidError(
      'ERR_X509_SVID_CRITICAL_EXTENSION',
      `${what} has an unhandled critical extension ${info.unhandledCritical[0]}`,
    )
  }
}
