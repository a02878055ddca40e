import type { X509Certificate } from 'node:crypto'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'

/**
 * How a caller was authenticated.
 *
 * @example
 * ```ts
 * const verifier = createCallerVerifier({ bundles, jwt: { audience: 'orders' }, channels: ['mtls', 'jwt'] })
 * const channel: CallerChannel = caller.channel // 'mtls' | 'xfcc' | 'jwt' | 'oidc'
 * ```
 */
export type CallerChannel = 'mtls' | 'xfcc' | 'jwt' | 'oidc'

/**
 * An OIDC principal, always the pair `{ iss, sub }` and never a joined string.
 *
 * @example
 * ```ts
 * const principal: OidcPrincipal = { iss: 'https://accounts.example.com', sub: 'user-42' }
 * if (caller.channel === 'oidc') console.log(caller.principal.iss, caller.principal.sub)
 * ```
 */
export interface OidcPrincipal {
  readonly iss: string
  readonly sub: string
}

interface CallerBase {
  /** Named boundary captures from the configured identity template, e.g. `{ namespace: 'prod' }`. */
  readonly captures: Readonly<Record<string, string>>
  /** Scopes from the token's `scope` (space-separated string or array) or `scp` claim; `[]` for certificates. */
  readonly scopes: readonly string[]
  /** Verified token claims (JWT-SVID or OIDC); `undefined` for certificate channels. */
  readonly claims: Readonly<Record<string, unknown>> | undefined
  /** When the credential stops being valid. */
  readonly expiresAt: Date | undefined
  /** The verified leaf certificate, for the `mtls` channel and for `xfcc` when `Cert` was verified. */
  readonly certificate: X509Certificate | undefined
}

/**
 * An end user on whose behalf a workload calls: a verified OIDC token that came with the workload's identity.
 *
 * @example
 * ```ts
 * if (caller.channel !== 'oidc' && caller.user) {
 *   const user: CallerUser = caller.user // with `oidc: { issuers, asUser: true }`
 *   user.principal.sub // e.g. 'user-42'
 * }
 * ```
 */
export interface CallerUser {
  readonly principal: OidcPrincipal
  readonly scopes: readonly string[]
  readonly claims: Readonly<Record<string, unknown>>
}

/**
 * A caller identified by a SPIFFE ID (mTLS peer, XFCC from a trusted proxy, or JWT-SVID).
 *
 * @example
 * ```ts
 * if (caller.channel !== 'oidc') {
 *   const workload: SpiffeCaller = caller
 *   workload.spiffeId.toString() // 'spiffe://example.org/ns/shop/sa/web'
 * }
 * ```
 */
export interface SpiffeCaller extends CallerBase {
  readonly channel: 'mtls' | 'xfcc' | 'jwt'
  readonly spiffeId: SpiffeId
  readonly trustDomain: TrustDomain
  readonly principal?: undefined
  /** The end user, when an OIDC token came with the workload identity and `oidc.asUser` is on. */
  readonly user?: CallerUser | undefined
}

/**
 * A caller identified by a token from a configured OIDC issuer.
 *
 * @example
 * ```ts
 * if (caller.channel === 'oidc') {
 *   const user: OidcCaller = caller
 *   user.principal // { iss: 'https://accounts.example.com', sub: 'user-42' }
 * }
 * ```
 */
export interface OidcCaller extends CallerBase {
  readonly channel: 'oidc'
  readonly principal: OidcPrincipal
  readonly spiffeId?: undefined
  readonly trustDomain?: undefined
}

/**
 * The verified identity of whoever made a request: the output of `verifyCaller`, attached by every
 * adapter (`request.caller`, `req.caller`). Narrow on `channel` (or on `spiffeId`) to reach the identity.
 *
 * @example
 * ```ts
 * function who(caller: Caller): string {
 *   return caller.channel === 'oidc' ? `${caller.principal.iss} ${caller.principal.sub}` : caller.spiffeId.toString()
 * }
 * ```
 */
export type Caller = SpiffeCaller | OidcCaller
