import { X509SvidError } from '@svidkit/core/errors'
import { MAX_CHAIN_BYTES, verifyX509Svid } from '@svidkit/core/x509-svid'
import { accepted, type CliResult, rejected } from '../cli-result.js'
import { loadBundles, parseAt, readInput } from '../inputs.js'

/**
 * A distinguished name as one line (`CN=web, O=Example`). Node gives `undefined` for an empty DN, which
 * is legal and common (Istio issues SVIDs with an empty subject and a critical URI SAN): it shows as
 * `""`.
 */
function distinguishedName(dn: string | undefined): string {
  return dn === undefined ? '' : dn.replace(/\n/g, ', ')
}

/** `svidkit x509 verify <chain.pem> --bundle <file>… [--trust-domain td] [--at time]`. */
export function x509VerifyCommand(
  file: string,
  options: { bundle: string[]; trustDomain?: string; at?: string },
): CliResult {
  try {
    const at = parseAt(options.at)
    const pem = readInput(file, 'certificate file', {
      maxBytes: MAX_CHAIN_BYTES,
      tooLarge: (message) => new X509SvidError('ERR_X509_SVID_TOO_LARGE', message),
    }).toString('utf8')
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new X509SvidError('ERR_X509_SVID_MALFORMED', `"${file}" holds no PEM certificate`)
    }
    const bundles = loadBundles(options.bundle, options.trustDomain)
    const r = verifyX509Svid(pem, bundles, at ? { at } : {})
    const chain = r.chain.map((c) => ({
      subject: distinguishedName(c.subject),
      issuer: distinguishedName(c.issuer),
      serialNumber: c.serialNumber,
      notBefore: new Date(c.validFrom).toISOString(),
      notAfter: new Date(c.validTo).toISOString(),
      sha256: c.fingerprint256.replace(/:/g, '').toLowerCase(),
    }))
    return accepted(
      {
        spiffeId: r.id.toString(),
        trustDomain: r.trustDomain.name,
        expiresAt: r.expiresAt.toISOString(),
        chain,
      },
      `verified: ${r.id}\n  trust domain: ${r.trustDomain}\n  expires:      ${r.expiresAt.toISOString()}\n  chain:        ${chain.length} certificate(s)`,
    )
  } catch (err) {
    return rejected(err)
  }
}
