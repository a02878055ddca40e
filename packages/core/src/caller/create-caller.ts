// The one place callers are built: the pipeline (every channel), the TLS peer verifier (a handshake's
// caller) and `callerFromId` all call these, so a Caller has the same shape whoever made it.
import type { X509Certificate } from 'node:crypto'
import { optionsFailure } from '../internal/options.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { Caller, CallerChannel, CallerUser, OidcCaller, OidcPrincipal, SpiffeCaller } from './caller.js'

const NO_CAPTURES: Readonly<Record<string, string>> = Object.freeze({})
const NO_SCOPES: readonly string[] = Object.freeze([])

/** The parts of a {@link SpiffeCaller}; unset ones take their empty values. @internal */
export interface SpiffeCallerParts {
  readonly channel: SpiffeCaller['channel']
  readonly spiffeId: SpiffeId
  readonly captures?: Readonly<Record<string, string>> | undefined
  readonly scopes?: readonly string[] | undefined
  readonly claims?: Readonly<Record<string, unknown>> | undefined
  readonly expiresAt?: Date | undefined
  readonly certificate?: X509Certificate | undefined
  readonly user?: CallerUser | undefined
}

/**
 * A frozen SPIFFE caller. Scopes and captures must already be frozen (they are shared).
 * @internal
 */
export function spiffeCaller(p: SpiffeCallerParts): SpiffeCaller {
  return Object.freeze({
    channel: p.channel,
    spiffeId: p.spiffeId,
    trustDomain: p.spiffeId.trustDomain,
    captures: p.captures ?? NO_CAPTURES,
    scopes: p.scopes ?? NO_SCOPES,
    claims: p.claims,
    expiresAt: p.expiresAt,
    certificate: p.certificate,
    ...(p.user ? { user: p.user } : {}),
  } satisfies SpiffeCaller)
}

/**
 * A frozen OIDC caller.
 * @internal
 */
export function oidcCaller(p: {
  readonly principal: OidcPrincipal
  readonly scopes?: readonly string[] | undefined
  readonly claims?: Readonly<Record<string, unknown>> | undefined
  readonly expiresAt?: Date | undefined
  readonly captures?: Readonly<Record<string, string>> | undefined
}): OidcCaller {
  return Object.freeze({
    channel: 'oidc',
    principal: p.principal,
    captures: p.captures ?? NO_CAPTURES,
    scopes: p.scopes ?? NO_SCOPES,
    claims: p.claims,
    expiresAt: p.expiresAt,
    certificate: undefined,
  } satisfies OidcCaller)
}

/**
 * Options for {@link callerFromId}.
 *
 * @example
 * ```ts
 * const options: CallerFromIdOptions = { channel: 'jwt', scopes: ['orders:read'], claims: { azp: 'portal' } }
 * const caller = callerFromId('spiffe://example.org/ns/shop/sa/web', options)
 * ```
 */
export interface CallerFromIdOptions {
  /** Default `mtls` for a SPIFFE ID, `oidc` for an `{ iss, sub }` principal. */
  channel?: CallerChannel
  scopes?: readonly string[]
  /** Claims to evaluate `when` conditions against (as if verified). */
  claims?: Readonly<Record<string, unknown>>
  captures?: Readonly<Record<string, string>>
  expiresAt?: Date
}

/**
 * Builds a {@link Caller} from an identity, with no credential behind it: for `svidkit policy
 * check`, tests, and TLS servers that already verified the peer. Never use it to trust an
 * identity a client merely claims.
 *
 * @example
 * ```ts
 * const caller = callerFromId('spiffe://example.org/ns/shop/sa/web', { channel: 'jwt', scopes: ['orders:read'] })
 * const user = callerFromId({ iss: 'https://login.example.com', sub: 'alice' }, { claims: { azp: 'portal' } })
 * ```
 */
export function callerFromId(
  id: SpiffeId | string | OidcPrincipal,
  options: CallerFromIdOptions = {},
): Caller {
  const bad = optionsFailure('callerFromId')
  const scopes = options.scopes ? Object.freeze([...options.scopes]) : NO_SCOPES
  if (!scopes.every((s) => typeof s === 'string')) bad('scopes must be strings')
  const common = {
    captures: options.captures ? Object.freeze({ ...options.captures }) : NO_CAPTURES,
    scopes,
    claims: options.claims,
    expiresAt: options.expiresAt,
  }
  if (typeof id === 'string' || id instanceof SpiffeId) {
    const spiffeId = typeof id === 'string' ? SpiffeId.parse(id) : id
    const channel = options.channel ?? 'mtls'
    if (channel === 'oidc') bad('an oidc caller needs an { iss, sub } principal')
    return spiffeCaller({ ...common, channel: channel as SpiffeCaller['channel'], spiffeId })
  }
  if (!id || typeof id.iss !== 'string' || typeof id.sub !== 'string' || id.iss === '' || id.sub === '') {
    bad('expected a SPIFFE ID or an { iss, sub } principal')
  }
  if (options.channel !== undefined && options.channel !== 'oidc') {
    bad(`an { iss, sub } principal cannot use channel "${options.channel}"`)
  }
  return oidcCaller({ ...common, principal: Object.freeze({ iss: id.iss, sub: id.sub }) })
}
