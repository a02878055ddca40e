// The mTLS channel: the identity of a TLS peer, verified once per connection and remembered for it.
import type { X509BundleSource } from '../bundle/bundle-source.js'
import type { SpiffeCaller } from '../caller/caller.js'
import { X509SvidError } from '../errors/domain-errors.js'
import type { SvidkitError } from '../errors/svidkit-error.js'
import { toSvidkitError } from '../errors/to-svidkit-error.js'
import { getTlsCaller } from '../tls/get-tls-caller.js'
import { peerCertificateChain } from '../tls/peer-certificate-chain.js'
import { verifyX509Svid } from '../x509-svid/verify-x509-svid.js'
import type { CallerCredentials } from './caller-verifier.js'
import type { Identity } from './identity.js'

interface Entry {
  readonly identity: Identity | undefined
  readonly error: SvidkitError | undefined
  /** Until when the entry holds (the certificate's expiry, or 1 s for a failure). */
  readonly until: number
}

/**
 * The mTLS identity of a request's connection. A socket that `createMtlsServerConfig` verified at
 * the handshake is taken as verified (and refused once its certificate expires); any other socket's
 * chain is verified here, once per connection (a failure is remembered for a second: the handshake
 * will not change, the bundles might). Chains passed without a socket are verified every time.
 * Entries live in WeakMaps keyed by the socket, so they go with the connection.
 * @internal
 */
export function createMtlsIdentities(
  bundles: X509BundleSource,
  skewMs: number,
): (credentials: CallerCredentials) => Identity | undefined {
  const sockets = new WeakMap<object, Entry>()
  const handshakeIdentities = new WeakMap<SpiffeCaller, Identity>()
  const skewSeconds = skewMs / 1000
  return (c) => {
    const socket = c.socket
    if (socket && typeof socket === 'object') {
      const verified = getTlsCaller(socket)
      const now = Date.now()
      if (verified) {
        // Verified at the handshake; a connection that outlives the certificate is refused.
        if (verified.expiresAt !== undefined && now > verified.expiresAt.getTime() + skewMs) {
          throw new X509SvidError('ERR_X509_SVID_EXPIRED', 'peer certificate has expired since the handshake')
        }
        let identity = handshakeIdentities.get(verified)
        if (identity === undefined) {
          identity = {
            channel: 'mtls',
            spiffeId: verified.spiffeId,
            certificate: verified.certificate,
            expiresAt: verified.expiresAt,
          }
          handshakeIdentities.set(verified, identity)
        }
        return identity
      }
      const hit = sockets.get(socket)
      if (hit && now < hit.until) {
        if (hit.error) throw hit.error
        return hit.identity
      }
      let entry: Entry
      try {
        const chain = peerCertificateChain(socket)
        if (chain.length === 0)
          entry = { identity: undefined, error: undefined, until: Number.POSITIVE_INFINITY }
        else {
          const r = verifyX509Svid(chain, bundles, { clockSkewSeconds: skewSeconds })
          entry = {
            identity: { channel: 'mtls', spiffeId: r.id, certificate: r.chain[0], expiresAt: r.expiresAt },
            error: undefined,
            until: r.expiresAt.getTime() + skewMs,
          }
        }
      } catch (err) {
        entry = { identity: undefined, error: toSvidkitError(err), until: now + 1000 }
      }
      sockets.set(socket, entry)
      if (entry.error) throw entry.error
      return entry.identity
    }
    if (c.peerCertificates && c.peerCertificates.length > 0) {
      const r = verifyX509Svid(c.peerCertificates, bundles, { clockSkewSeconds: skewSeconds })
      return { channel: 'mtls', spiffeId: r.id, certificate: r.chain[0], expiresAt: r.expiresAt }
    }
    return undefined
  }
}
