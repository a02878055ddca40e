/**
 * SPIFFE IDs and trust domains (SPIFFE-ID §2), and matchers over them (go-spiffe `spiffeid`).
 *
 * @example
 * ```ts
 * import { SpiffeId, matchPathTemplate } from '@svidkit/core/spiffe-id'
 * const id = SpiffeId.parse('spiffe://cluster.local/ns/prod/sa/web')
 * const m = matchPathTemplate('/ns/{namespace}/sa/{serviceAccount}')
 * ```
 * @module
 */
export type { Matcher, MatchResult, PathTemplateOptions } from './matcher.js'
export {
  assertMatch,
  matchAny,
  matchId,
  matchMemberOf,
  matchOneOf,
  matchPathPrefix,
  matchPathTemplate,
} from './matcher.js'
export { firstCaptures, PathTemplate } from './path-template.js'
export type { SpiffeIdParseOptions } from './spiffe-id.js'
export { SpiffeId } from './spiffe-id.js'
export type { TrustDomainParseOptions } from './trust-domain.js'
export { TrustDomain } from './trust-domain.js'
