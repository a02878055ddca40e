import {
  type ConnectionOptions,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
  type SecureContextOptions,
} from 'node:tls'
import type { X509Bundle } from '../bundle/x509-bundle.js'
import { OptionsError } from '../errors/domain-errors.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { X509Svid } from '../x509-svid/x509-svid.js'
import { chainFromPeerCertificate, compilePeerVerifier } from './internal/peer-verifier.js'
import { checkContextOptions, checkMinVersion, svidPem } from './internal/tls-settings.js'
import type { PeerVerificationOptions, TlsMinVersion } from './tls-options.js'
import type { TlsPeer } from './tls-peer.js'

/**
 * Options for {@link createMtlsClientConfig} (and the agents built on it).
 *
 * @example
 * ```ts
 * const options: MtlsClientConfigOptions = {
 *   source,
 *   authorize: authorizeId('spiffe://example.org/api'),
 *   onVerified: (peer) => log.debug(`server ${peer.id}`),
 * }
 * ```
 */
export interface MtlsClientConfigOptions extends PeerVerificationOptions {
  /**
   * The trust domains whose authorities go into the OpenSSL trust store, for a source without a
   * `bundles` list. Default: every trust domain of `source.bundles`.
   */
  trustDomains?: readonly (TrustDomain | string)[]
  /** Lowest TLS version offered: `TLSv1.2` (default) or `TLSv1.3`. TLS 1.3 is always preferred. */
  minVersion?: TlsMinVersion
  /** Extra secure-context options (`ciphers`, `sigalgs`, …); `key`, `cert`, `ca` and versions come from svidkit. */
  secureContextOptions?: SecureContextOptions
  /** Called with every server that passed verification and authorization (for logs and tests). */
  onVerified?: (peer: TlsPeer) => void
}

/**
 * What {@link createMtlsClientConfig} returns.
 *
 * @example
 * ```ts
 * const client: MtlsClientConfig = createMtlsClientConfig({ source, authorize })
 * const socket = tls.connect({ ...client.connectOptions(), host, port })
 * ```
 */
export interface MtlsClientConfig {
  /**
   * The options for one new connection, from the source's current state: a `secureContext` with the
   * current SVID and every bundle authority, `rejectUnauthorized: true`, the svidkit
   * `checkServerIdentity`, and no TLS session to resume. Call it per connection (contexts are cached
   * by SVID and bundle identity, so this is cheap) and spread host, port and ALPN around it.
   */
  connectOptions(): ConnectionOptions
  /** The `checkServerIdentity` function: strict X.509-SVID verification plus authorization. */
  readonly checkServerIdentity: (hostname: string, cert: PeerCertificate) => Error | undefined
}

/**
 * mTLS client options for `node:tls`, `node:https` and `node:http2` backed by a live SVID source
 * (go-spiffe `tlsconfig.MTLSClientConfig`): the client presents the current X.509-SVID and accepts the
 * server only if its chain verifies as an X.509-SVID against the bundle of the **server's own trust
 * domain** and its SPIFFE ID passes `authorize` (instead of a hostname check).
 *
 * Why `checkServerIdentity`: Node has no hook that replaces OpenSSL's verification, and calls
 * `checkServerIdentity` only after OpenSSL accepted the chain. So the context's `ca` holds every
 * current bundle authority (OpenSSL's pass: a loose, merged check) and `rejectUnauthorized` stays
 * `true`; then `checkServerIdentity` runs the strict per-trust-domain `verifyX509Svid` and the
 * authorizer, and returns an `Error` to refuse. Node runs it from the handshake-done callback, before
 * `secureConnect` and before flushing anything the application already wrote, and destroys the socket
 * on an error: **no request byte reaches an unverified server** (the tests check this at the byte level,
 * with data written before the handshake finished). Session resumption is disabled (`session:
 * undefined` on every connection, no tickets cached by the svidkit agents), because Node skips
 * `checkServerIdentity` on a resumed session.
 *
 * Use {@link createSpiffeHttpsAgent} with `node:https` (a shared agent would pool sockets across
 * configurations), {@link createSpiffeDispatcher} with undici's `fetch`, and `connectOptions()`
 * directly with `tls.connect` or `http2.connect`.
 *
 * @example
 * ```ts
 * import tls from 'node:tls'
 * import http2 from 'node:http2'
 * import { matchId } from '@svidkit/core/spiffe-id'
 * import { createMtlsClientConfig } from '@svidkit/core/tls'
 *
 * const client = createMtlsClientConfig({ source, authorize: matchId('spiffe://example.org/api') })
 * const socket = tls.connect({ ...client.connectOptions(), host: '10.0.0.7', port: 8443 })
 * const session = http2.connect('https://10.0.0.7:8443', client.connectOptions())
 * ```
 */
export function createMtlsClientConfig(options: MtlsClientConfigOptions): MtlsClientConfig {
  const what = 'createMtlsClientConfig'
  const verifyPeer = compilePeerVerifier(options, 'server', what)
  const minVersion = checkMinVersion(options.minVersion, what)
  const contextOptions = checkContextOptions(options.secureContextOptions, what)
  const { source, onVerified } = options
  if (onVerified !== undefined && typeof onVerified !== 'function') {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "onVerified" must be a function`)
  }
  let trustDomains: TrustDomain[] | undefined
  if (options.trustDomains !== undefined) {
    if (!Array.isArray(options.trustDomains) || options.trustDomains.length === 0) {
      throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "trustDomains" must be a non-empty array`)
    }
    trustDomains = options.trustDomains.map((td) => (typeof td === 'string' ? TrustDomain.parse(td) : td))
  } else if (!('bundles' in source) || typeof source.bundles !== 'object') {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `${what}: the source cannot list its bundles (no "bundles" property); pass "trustDomains"`,
    )
  }

  const listBundles = (): X509Bundle[] => {
    const out: X509Bundle[] = []
    if (trustDomains) {
      for (const td of trustDomains) {
        const b = source.getX509BundleForTrustDomain(td)
        if (b) out.push(b)
      }
      return out
    }
    const list = source.bundles!
    for (const td of list.trustDomains()) {
      const b = list.getX509BundleForTrustDomain(td)
      if (b) out.push(b)
    }
    return out
  }

  // One context per (SVID object, bundle objects): rebuilt on rotation only, never per connection.
  let cached: { svid: X509Svid; bundles: X509Bundle[]; context: SecureContext } | undefined
  const currentContext = (): SecureContext => {
    const svid = source.getX509Svid()
    const bundles = listBundles()
    if (
      cached &&
      cached.svid === svid &&
      cached.bundles.length === bundles.length &&
      cached.bundles.every((b, i) => b === bundles[i])
    ) {
      return cached.context
    }
    const { key, cert } = svidPem(svid)
    const ca: string[] = []
    for (const b of bundles) for (const a of b.authorities) ca.push(a.toString())
    // `ca` is always an array (possibly empty): Node then never falls back to its public root store.
    const context = createSecureContext({ ...contextOptions, key, cert, ca, minVersion })
    cached = { svid, bundles, context }
    return context
  }

  const checkServerIdentity = (_hostname: string, cert: PeerCertificate): Error | undefined => {
    try {
      const { peer } = verifyPeer(chainFromPeerCertificate(cert))
      onVerified?.(peer)
      return undefined
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err))
    }
  }

  const connectOptions = (): ConnectionOptions => ({
    secureContext: currentContext(),
    rejectUnauthorized: true,
    checkServerIdentity,
    session: undefined,
  })

  return Object.freeze({ connectOptions, checkServerIdentity })
}
