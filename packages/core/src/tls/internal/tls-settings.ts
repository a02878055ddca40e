// TLS version floor, session-ticket policy and the PEM forms of an SVID, cached by object identity.
// Not exported.
import { constants } from 'node:crypto'
import type { SecureContextOptions } from 'node:tls'
import { OptionsError } from '../../errors/domain-errors.js'
import { marshalX509Svid } from '../../x509-svid/marshal-x509-svid.js'
import type { X509Svid } from '../../x509-svid/x509-svid.js'
import type { TlsMinVersion } from '../tls-options.js'

/** Context options svidkit owns: callers may not set them through `secureContextOptions`. */
const OWNED = [
  'key',
  'cert',
  'ca',
  'pfx',
  'passphrase',
  'minVersion',
  'maxVersion',
  'secureProtocol',
] as const

export function checkMinVersion(value: unknown, what: string): TlsMinVersion {
  if (value === undefined) return 'TLSv1.2'
  if (value !== 'TLSv1.2' && value !== 'TLSv1.3') {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "minVersion" must be "TLSv1.2" or "TLSv1.3"`)
  }
  return value
}

export function checkContextOptions(value: unknown, what: string): SecureContextOptions {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "secureContextOptions" must be an object`)
  }
  for (const k of OWNED) {
    if (k in value) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        `${what}: "secureContextOptions.${k}" is managed by svidkit (from the source)`,
      )
    }
  }
  return { ...(value as SecureContextOptions) }
}

/**
 * No TLS session tickets. A resumed session skips what makes the peer trusted: Node does not call
 * `checkServerIdentity` on a resumed client session, and a resumed server session carries the
 * original client leaf without its intermediates and without re-presenting a rotated SVID.
 */
export const NO_TICKET = constants.SSL_OP_NO_TICKET

const pem = new WeakMap<X509Svid, { key: string; cert: string }>()

/** The SVID's chain and key as PEM, derived once per SVID object. */
export function svidPem(svid: X509Svid): { key: string; cert: string } {
  let hit = pem.get(svid)
  if (!hit) {
    const m = marshalX509Svid(svid)
    hit = { key: m.privateKey, cert: m.certificates }
    pem.set(svid, hit)
  }
  return hit
}
