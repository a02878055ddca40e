import type { X509Certificate } from 'node:crypto'
import type { SyncAuthorizer } from '../policy/types.js'
import type { Matcher } from '../spiffe-id/matcher.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'

/**
 * A TLS peer whose chain has been verified as an X.509-SVID against the bundle of its own trust
 * domain. This is what an authorizer function receives, before the connection is admitted.
 *
 * @example
 * ```ts
 * const onlyProd: TlsAuthorizer = (peer: TlsPeer) => {
 *   if (peer.captures.namespace !== 'prod') throw new Error(`namespace ${peer.captures.namespace}`)
 * }
 * ```
 */
export interface TlsPeer {
  /** What the peer is to us: `client` on a server, `server` on a client. */
  readonly role: 'client' | 'server'
  /** The peer's SPIFFE ID. */
  readonly id: SpiffeId
  /** Its trust domain, whose bundle verified the chain. */
  readonly trustDomain: TrustDomain
  /** The peer's leaf certificate. */
  readonly certificate: X509Certificate
  /** The verified path: leaf, intermediates, then the bundle authority. */
  readonly chain: readonly X509Certificate[]
  /** The earliest `notAfter` on the path. */
  readonly expiresAt: Date
  /** Captures of the `identityTemplate` option (`{}` without one, or when it does not match). */
  readonly captures: Readonly<Record<string, string>>
}

/**
 * An authorizer function: throw (or return `false`) to refuse the peer; any other return value admits
 * it. It runs synchronously in the handshake path, once per connection, so it cannot await: a returned
 * Promise refuses the peer (fail closed). Keep it cheap.
 *
 * @example
 * ```ts
 * const authorize: TlsAuthorizer = (peer) => {
 *   if (!peer.id.path.startsWith('/ns/prod/')) throw new Error('not a prod workload')
 * }
 * ```
 */
export type TlsAuthorizer = (peer: TlsPeer) => unknown

/**
 * How a server or client decides whether a verified peer may connect (go-spiffe `tlsconfig.Authorizer`):
 * - a policy function authorizer from `@svidkit/core/policy`: `authorizeAny()`, `authorizeId(id)`,
 *   `authorizeOneOf(...ids)`, `authorizeMemberOf(td)`, `authorizeMatcher(m)` (go-spiffe
 *   `AuthorizeAny` / `AuthorizeID` / `AuthorizeOneOf` / `AuthorizeMemberOf` / `AdaptMatcher`), or any
 *   other `SyncAuthorizer`. It gets `{ caller, self, operation: undefined }`: a TLS handshake has no
 *   HTTP or gRPC operation, so a policy *document* authorizer (`createPolicyAuthorizer`) denies every
 *   peer here (fail closed); apply it per request instead;
 * - a SPIFFE ID `Matcher` (`matchId`, `matchOneOf`, `matchMemberOf`, `matchPathTemplate`, …);
 * - a {@link TlsAuthorizer} function for anything else.
 *
 * A function with a string `description` property is taken to be a `Matcher`; an object with an
 * `authorize` method, an authorizer. Whatever cannot answer synchronously refuses.
 *
 * @example
 * ```ts
 * import { authorizeMemberOf } from '@svidkit/core/policy'
 * import { matchPathTemplate } from '@svidkit/core/spiffe-id'
 * const byTrustDomain: TlsAuthorize = authorizeMemberOf('example.org')
 * const byPath: TlsAuthorize = matchPathTemplate('/ns/prod/sa/{sa}', { trustDomain: 'example.org' })
 * ```
 */
export type TlsAuthorize = SyncAuthorizer | Matcher | TlsAuthorizer
