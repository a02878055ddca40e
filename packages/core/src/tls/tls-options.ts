import type { Auditor, AuditorOptions } from '../audit/create-auditor.js'
import type { Matcher } from '../spiffe-id/matcher.js'
import type { VerifyX509SvidOptions } from '../x509-svid/verify-x509-svid.js'
import type { TlsAuthorize } from './tls-peer.js'
import type { TlsSource } from './tls-source.js'

/**
 * The TLS versions svidkit accepts as a floor: `TLSv1.2` (the default, as go-spiffe) or `TLSv1.3`.
 * TLS 1.3 is always preferred when both sides support it.
 *
 * @example
 * ```ts
 * createMtlsServerConfig({ source, authorize, minVersion: 'TLSv1.3' satisfies TlsMinVersion })
 * ```
 */
export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3'

/**
 * How servers and clients verify and authorize their peer; shared by every factory of this module.
 *
 * @example
 * ```ts
 * const options: PeerVerificationOptions = {
 *   source,
 *   authorize: matchMemberOf('example.org'),
 *   identityTemplate: '/ns/{namespace}/sa/{serviceAccount}',
 *   verify: { clockSkewSeconds: 30 },
 * }
 * ```
 */
export interface PeerVerificationOptions {
  /** Where the SVID and the bundles come from; read on every new connection. */
  source: TlsSource
  /**
   * Who may connect: a SPIFFE ID `Matcher`, a synchronous authorizer (a policy, whose rules without
   * `to` decide connections), or a function that throws (or returns `false`) to refuse.
   */
  authorize: TlsAuthorize
  /**
   * A path template (`/ns/{namespace}/sa/{serviceAccount}`) or a `Matcher` whose captures become
   * `captures` on the peer and its `Caller`. It authorizes nothing: a peer whose ID does not match it
   * gets `{}`.
   */
  identityTemplate?: string | Matcher
  /** Peer verification options for `verifyX509Svid` (clock skew, critical KeyUsage, EKU). */
  verify?: Omit<VerifyX509SvidOptions, 'at'>
  /**
   * Audit of the connection decisions (the same events as request decisions, with operation
   * `{ kind: 'connection' }`): an auditor, options for one (`{ logger }`), or `false`. Default:
   * telemetry only.
   */
  audit?: Auditor | AuditorOptions | false
}
