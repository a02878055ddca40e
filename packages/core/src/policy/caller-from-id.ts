import type { Caller, CallerChannel, OidcPrincipal } from '../caller/caller.js'
import { OptionsError } from '../errors/domain-errors.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'

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

const NO_CAPTURES: Readonly<Record<string, string>> = Object.freeze({})
const NO_SCOPES: readonly string[] = Object.freeze([])

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
  const scopes = options.scopes ? Object.freeze([...options.scopes]) : NO_SCOPES
  if (!scopes.every((s) => typeof s === 'string')) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'callerFromId: scopes must be strings')
  }
  const common = {
    captures: options.captures ? Object.freeze({ ...options.captures }) : NO_CAPTURES,
    scopes,
    claims: options.claims,
    expiresAt: options.expiresAt,
    certificate: undefined,
  }
  if (typeof id === 'string' || id instanceof SpiffeId) {
    const spiffeId = typeof id === 'string' ? SpiffeId.parse(id) : id
    const channel = options.channel ?? 'mtls'
    if (channel === 'oidc') {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        'callerFromId: an oidc caller needs an { iss, sub } principal',
      )
    }
    return Object.freeze({ ...common, channel, spiffeId, trustDomain: spiffeId.trustDomain })
  }
  if (!id || typeof id.iss !== 'string' || typeof id.sub !== 'string' || id.iss === '' || id.sub === '') {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      'callerFromId: expected a SPIFFE ID or an { iss, sub } principal',
    )
  }
  if (options.channel !== undefined && options.channel !== 'oidc') {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `callerFromId: an { iss, sub } principal cannot use channel "${options.channel}"`,
    )
  }
  return Object.freeze({ ...common, channel: 'oidc', principal: Object.freeze({ iss: id.iss, sub: id.sub }) })
}
