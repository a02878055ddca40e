import { SpiffeIdError } from '../errors/domain-errors.js'
import { PathTemplate } from './path-template.js'
import { SpiffeId } from './spiffe-id.js'
import { TrustDomain } from './trust-domain.js'

/**
 * The result of a {@link Matcher}: named captures on a match, a reason otherwise.
 *
 * @example
 * ```ts
 * const r: MatchResult = matchMemberOf('example.org')(SpiffeId.parse('spiffe://other.org/web'))
 * if (!r.matched) r.reason // 'unexpected trust domain "other.org"'
 * ```
 */
export type MatchResult =
  | { readonly matched: true; readonly captures: Readonly<Record<string, string>> }
  | { readonly matched: false; readonly reason: string }

/**
 * A predicate over SPIFFE IDs (go-spiffe's `spiffeid.Matcher`), with a human description used in
 * decisions and errors. Build one with `matchAny`, `matchId`, `matchOneOf`, `matchMemberOf`,
 * `matchPathPrefix` or `matchPathTemplate`.
 *
 * @example
 * ```ts
 * const m = matchMemberOf('example.org')
 * m(SpiffeId.parse('spiffe://example.org/web')).matched // true
 * m.description // 'member of trust domain "example.org"'
 * ```
 */
export interface Matcher {
  (id: SpiffeId): MatchResult
  /** A short, human description, e.g. `ID "spiffe://example.org/web"`. */
  readonly description: string
}

const NO_CAPTURES: Readonly<Record<string, string>> = Object.freeze({})
const YES: MatchResult = Object.freeze({ matched: true, captures: NO_CAPTURES })

function matcher(description: string, fn: (id: SpiffeId) => MatchResult): Matcher {
  return Object.assign(fn, { description })
}

const asId = (id: SpiffeId | string): SpiffeId => (typeof id === 'string' ? SpiffeId.parse(id) : id)
const asTd = (td: TrustDomain | string): TrustDomain => (typeof td === 'string' ? TrustDomain.parse(td) : td)

/**
 * Matches every ID.
 * @example
 * ```ts
 * matchAny()(SpiffeId.parse('spiffe://a.test/x')).matched // true
 * ```
 */
export function matchAny(): Matcher {
  return matcher('any ID', () => YES)
}

/**
 * Matches exactly one ID.
 * @example
 * ```ts
 * matchId('spiffe://example.org/web')(SpiffeId.parse('spiffe://example.org/api')).matched // false
 * ```
 */
export function matchId(expected: SpiffeId | string): Matcher {
  const want = asId(expected).toString()
  return matcher(`ID "${want}"`, (id) =>
    id.toString() === want ? YES : { matched: false, reason: `unexpected ID "${id}"` },
  )
}

/**
 * Matches any of the given IDs; an empty list matches nothing.
 * @example
 * ```ts
 * matchOneOf('spiffe://example.org/a', 'spiffe://example.org/b')
 * ```
 */
export function matchOneOf(...expected: (SpiffeId | string)[]): Matcher {
  const set = new Set(expected.map((e) => asId(e).toString()))
  return matcher(`one of [${[...set].map((s) => `"${s}"`).join(', ')}]`, (id) =>
    set.has(id.toString()) ? YES : { matched: false, reason: `unexpected ID "${id}"` },
  )
}

/**
 * Matches every ID of a trust domain.
 * @example
 * ```ts
 * matchMemberOf('example.org')(SpiffeId.parse('spiffe://other.org/a')).matched // false
 * ```
 */
export function matchMemberOf(trustDomain: TrustDomain | string): Matcher {
  const td = asTd(trustDomain)
  return matcher(`member of trust domain "${td}"`, (id) =>
    id.memberOf(td) ? YES : { matched: false, reason: `unexpected trust domain "${id.trustDomain}"` },
  )
}

/**
 * Matches IDs of a trust domain whose path equals `prefix` or continues it at a segment boundary
 * (`/ns/prod` matches `/ns/prod` and `/ns/prod/sa/web`, not `/ns/production`).
 * @example
 * ```ts
 * matchPathPrefix('example.org', '/ns/prod')(SpiffeId.parse('spiffe://example.org/ns/prod/sa/web')).matched // true
 * ```
 */
export function matchPathPrefix(trustDomain: TrustDomain | string, prefix: string): Matcher {
  const td = asTd(trustDomain)
  const base = SpiffeId.fromPath(td, prefix).path
  return matcher(`path prefix "spiffe://${td}${base}"`, (id) => {
    if (!id.memberOf(td)) return { matched: false, reason: `unexpected trust domain "${id.trustDomain}"` }
    if (base === '' || id.path === base || id.path.startsWith(`${base}/`)) return YES
    return { matched: false, reason: `path "${id.path}" is not under "${base}"` }
  })
}

/**
 * Options for {@link matchPathTemplate}.
 *
 * @example
 * ```ts
 * const options: PathTemplateOptions = { trustDomain: 'cluster.local' }
 * matchPathTemplate('/ns/{namespace}/{**}', options)(SpiffeId.parse('spiffe://other.local/ns/a/b')).matched // false
 * ```
 */
export interface PathTemplateOptions {
  /** Restrict the match to one trust domain. Without it, any trust domain matches. */
  trustDomain?: TrustDomain | string
}

/**
 * Compiles a path template into a matcher with named captures. Segments are literals, `{name}`
 * (exactly one segment, captured), `{*}` (one segment, not captured) or, as the last segment only,
 * `{**}` / `{name:**}` (zero or more segments). Throws `ERR_SPIFFE_ID_TEMPLATE_INVALID` for a bad template.
 *
 * @example
 * ```ts
 * const m = matchPathTemplate('/ns/{namespace}/sa/{serviceAccount}', { trustDomain: 'cluster.local' })
 * const r = m(SpiffeId.parse('spiffe://cluster.local/ns/prod/sa/web'))
 * if (r.matched) r.captures // { namespace: 'prod', serviceAccount: 'web' }
 * ```
 */
export function matchPathTemplate(template: string, options: PathTemplateOptions = {}): Matcher {
  const t = PathTemplate.parse(template, options)
  const td = t.trustDomain
  const where = td ? `spiffe://${td}` : 'spiffe://*'
  return matcher(`path template "${where}${template}"`, (id) => {
    if (td && !id.memberOf(td))
      return { matched: false, reason: `unexpected trust domain "${id.trustDomain}"` }
    const captures = t.captures(id)
    if (captures === undefined) {
      return { matched: false, reason: `path "${id.path}" does not match template "${template}"` }
    }
    return { matched: true, captures }
  })
}
/**
 * Throws `ERR_SPIFFE_ID_NOT_MATCHED` unless `matcher` accepts `id`; returns the captures otherwise.
 * @example
 * ```ts
 * const { namespace } = assertMatch(matchPathTemplate('/ns/{namespace}/{**}'), id)
 * ```
 */
export function assertMatch(m: Matcher, id: SpiffeId): Readonly<Record<string, string>> {
  const r = m(id)
  if (r.matched) return r.captures
  throw new SpiffeIdError('ERR_SPIFFE_ID_NOT_MATCHED', r.reason, { details: { expected: m.description } })
}
