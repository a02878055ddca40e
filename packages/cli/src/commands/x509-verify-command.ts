import { X509SvidError } from '@svidkit/core/errors'
import { verifyX509Svid } from '@svidkit/core/x509-svid'
import { accepted, type CliResult, rejected } from '../cli-result.js'
import { loadBundles, parseAt, readInput } from '../inputs.js'

/** `svidkit x509 verify <chain.pem> --bundle <file>… [--trust-domain td] [--at time]`. */
export function x509VerifyCommand(
  file: string,
  options: { bundle: string[]; trustDomain?: string; at?: string },
): CliResult {
  try {
    const at = parseAt(options.at)
    const pem = readInput(file, 'certificate file').toString('utf8')
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new X509SvidError('ERR_X509_SVID_MALFORMED', `"${file}" holds no PEM certificate`)
    }
    const bundles = loadBundles(options.bundle, options.trustDomain)
    const r = verifyX509Svid(pem, bundles, at ? { at } : {})
    const chain = r.chain.map((c) => ({
      subject: c.subject.replace(/\n/g, ', '),
      issuer: c.issuer.replace(/\n/g, ', '),
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
