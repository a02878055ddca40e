import { JwtSvidError } from '@svidkit/core/errors'
import { verifyJwtSvid } from '@svidkit/core/jwt-svid'
import { accepted, type CliResult, rejected } from '../cli-result.js'
import { loadBundles, parseAt } from '../inputs.js'

/** `svidkit jwt verify <token|-> --bundle <file>… [--trust-domain td] --audience <aud>… [--at time]`. */
export function jwtVerifyCommand(
  token: string,
  options: { bundle: string[]; trustDomain?: string; audience: string[]; at?: string },
): CliResult {
  try {
    const at = parseAt(options.at)
    const bundles = loadBundles(options.bundle, options.trustDomain)
    const trimmed = token.trim()
    if (trimmed === '') throw new JwtSvidError('ERR_JWT_SVID_MALFORMED', 'token is empty')
    const svid = verifyJwtSvid(trimmed, bundles, { audience: options.audience, ...(at ? { at } : {}) })
    return accepted(
      {
        spiffeId: svid.id.toString(),
        trustDomain: svid.id.trustDomain.name,
        audience: [...svid.audience],
        expiresAt: svid.expiresAt.toISOString(),
        claims: svid.claims,
      },
      `verified: ${svid.id}\n  audience: ${svid.audience.join(', ')}\n  expires:  ${svid.expiresAt.toISOString()}`,
    )
  } catch (err) {
    return rejected(err)
  }
}
