import { OptionsError } from '../errors/domain-errors.js'
import { type Matcher, matchId, matchMemberOf, matchOneOf } from '../spiffe-id/matcher.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { AuthorizationInput, Decision, SyncAuthorizer } from './types.js'

const NO_AUDIT: readonly string[] = Object.freeze([])

/**
 * Lifts a SPIFFE ID {@link Matcher} into an authorizer (go-spiffe `AdaptMatcher`): callers whose
 * SPIFFE ID the matcher accepts are allowed, everything else (including OIDC callers, which have
 * no SPIFFE ID) is denied. Decisions carry `rule: null` and the matcher's description.
 *
 * @example
 * ```ts
 * const authorizer = authorizeMatcher(matchPathTemplate('/ns/{namespace}/sa/web', { trustDomain: 'example.org' }))
 * authorizer.authorize(input).decision
 * ```
 */
export function authorizeMatcher(matcher: Matcher): SyncAuthorizer {
  if (typeof matcher !== 'function') {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'authorizeMatcher: expected a Matcher')
  }
  return Object.freeze({
    authorize(input: AuthorizationInput): Decision {
      const id = input?.caller?.spiffeId
      if (!id) {
        return {
          decision: 'deny',
          rule: null,
          reason: `caller has no SPIFFE ID (channel ${input?.caller?.channel ?? 'unknown'}); expected ${matcher.description}`,
          audit: NO_AUDIT,
        }
      }
      const r = matcher(id)
      return r.matched
        ? {
            decision: 'allow',
            rule: null,
            reason: `caller ${id} matches ${matcher.description}`,
            audit: NO_AUDIT,
          }
        : {
            decision: 'deny',
            rule: null,
            reason: `caller ${id} rejected: ${r.reason}; expected ${matcher.description}`,
            audit: NO_AUDIT,
          }
    },
  })
}

const ANY: Decision = Object.freeze({
  decision: 'allow',
  rule: null,
  reason: 'any authenticated caller is allowed',
  audit: NO_AUDIT,
})

/**
 * Allows every authenticated caller, whatever its channel (go-spiffe `AuthorizeAny`). Use it only
 * when another layer decides.
 *
 * @example
 * ```ts
 * const authorizer = authorizeAny()
 * ```
 */
export function authorizeAny(): SyncAuthorizer {
  return Object.freeze({ authorize: (): Decision => ANY })
}

/**
 * Allows exactly one SPIFFE ID (go-spiffe `AuthorizeID`).
 *
 * @example
 * ```ts
 * const authorizer = authorizeId('spiffe://example.org/ns/shop/sa/web')
 * ```
 */
export function authorizeId(id: SpiffeId | string): SyncAuthorizer {
  return authorizeMatcher(matchId(id))
}

/**
 * Allows any of the given SPIFFE IDs; with none, allows nobody (go-spiffe `AuthorizeOneOf`).
 *
 * @example
 * ```ts
 * const authorizer = authorizeOneOf('spiffe://example.org/a', 'spiffe://example.org/b')
 * ```
 */
export function authorizeOneOf(...ids: (SpiffeId | string)[]): SyncAuthorizer {
  return authorizeMatcher(matchOneOf(...ids))
}

/**
 * Allows every SPIFFE ID of a trust domain (go-spiffe `AuthorizeMemberOf`).
 *
 * @example
 * ```ts
 * const authorizer = authorizeMemberOf('example.org')
 * ```
 */
export function authorizeMemberOf(trustDomain: TrustDomain | string): SyncAuthorizer {
  return authorizeMatcher(matchMemberOf(trustDomain))
}
