// `from`: principals (IDs, forms, path templates), trust domains, OIDC request principals, channels.
import { isSvidkitError } from '../errors/svidkit-error.js'
import { PathTemplate } from '../spiffe-id/path-template.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { Test } from './compiled-policy.js'
import { and, type PolicyCompiler } from './policy-compiler.js'
import type { JsonPath } from './policy-problems.js'
import { compileForms, type MatchForm, parseMatchForm, type StringTest } from './string-match.js'

const SCHEME = 'spiffe://'
const withScheme = (v: string): string => (v.startsWith(SCHEME) ? v : SCHEME + v)

export function compileSource(
  cx: PolicyCompiler,
  src: Record<string, unknown>,
  path: JsonPath,
  lenient: boolean,
  ruleId: string,
): Test | undefined {
  const tests: Test[] = []
  const keys = Object.keys(src)
  if (keys.length === 0) {
    cx.problems.error(
      'invalid',
      path,
      'a source needs at least one field (an empty source would match every caller)',
    )
    return undefined
  }
  const s = src as {
    principals?: string[]
    notPrincipals?: string[]
    trustDomains?: string[]
    notTrustDomains?: string[]
    requestPrincipals?: { iss: string; sub: string }[]
    notRequestPrincipals?: { iss: string; sub: string }[]
    channels?: string[]
    notChannels?: string[]
  }
  if (s.principals) {
    const m = compilePrincipals(cx, s.principals, [...path, 'principals'], ruleId)
    tests.push((ctx) => ctx.id !== undefined && m(ctx))
  }
  if (s.notPrincipals) {
    const m = compilePrincipals(cx, s.notPrincipals, [...path, 'notPrincipals'], ruleId)
    tests.push((ctx) => (ctx.id === undefined ? lenient : !m(ctx)))
  }
  if (s.trustDomains) {
    const m = compileTrustDomains(cx, s.trustDomains, [...path, 'trustDomains'])
    tests.push((ctx) => ctx.td !== undefined && m(ctx.td))
  }
  if (s.notTrustDomains) {
    const m = compileTrustDomains(cx, s.notTrustDomains, [...path, 'notTrustDomains'])
    tests.push((ctx) => (ctx.td === undefined ? lenient : !m(ctx.td)))
  }
  if (s.requestPrincipals) {
    const m = compileRequestPrincipals(cx, s.requestPrincipals, [...path, 'requestPrincipals'])
    tests.push(
      (ctx) => ctx.caller.principal !== undefined && m(ctx.caller.principal.iss, ctx.caller.principal.sub),
    )
  }
  if (s.notRequestPrincipals) {
    const m = compileRequestPrincipals(cx, s.notRequestPrincipals, [...path, 'notRequestPrincipals'])
    tests.push((ctx) => {
      const p = ctx.caller.principal
      return p === undefined ? lenient : !m(p.iss, p.sub)
    })
  }
  if (s.channels) {
    const set = new Set(s.channels)
    tests.push((ctx) => set.has(ctx.caller.channel))
  }
  if (s.notChannels) {
    const set = new Set(s.notChannels)
    tests.push((ctx) => !set.has(ctx.caller.channel))
  }
  // Lint: SPIFFE-only and OIDC-only fields in one source can never both hold.
  const spiffeOnly = s.principals !== undefined || s.trustDomains !== undefined
  const oidcOnly = s.requestPrincipals !== undefined
  const chans = s.channels ? new Set(s.channels) : undefined
  if (
    (spiffeOnly && oidcOnly) ||
    (spiffeOnly && chans && ![...chans].some((c) => c !== 'oidc')) ||
    (oidcOnly && chans && !chans.has('oidc'))
  ) {
    cx.problems.warn(
      'never-matches',
      path,
      'this source can never match: principals/trustDomains need a SPIFFE caller (mtls, xfcc, jwt) and requestPrincipals an oidc caller',
      { rule: ruleId },
    )
  }
  return and(tests)
}

export function compilePrincipals(
  cx: PolicyCompiler,
  values: readonly string[],
  path: JsonPath,
  ruleId: string,
): Test {
  const forms: MatchForm[] = []
  const templates: PathTemplate[] = []
  values.forEach((raw, i) => {
    const p = [...path, i]
    if (raw.includes('{')) {
      const rest = raw.startsWith(SCHEME) ? raw.slice(SCHEME.length) : raw
      const slash = rest.indexOf('/')
      if (slash <= 0) {
        cx.problems.error(
          'invalid',
          p,
          `principal template "${raw}" needs a trust domain (or "*") and a path`,
        )
        return
      }
      const tdName = rest.slice(0, slash)
      let td: TrustDomain | undefined
      if (tdName !== '*') {
        td = TrustDomain.tryParse(tdName)
        if (!td) {
          cx.problems.error('invalid', p, `"${tdName}" is not a valid trust domain name`)
          return
        }
      }
      try {
        templates.push(PathTemplate.parse(rest.slice(slash), td ? { trustDomain: td } : {}))
      } catch (err) {
        cx.problems.error('invalid', p, isSvidkitError(err) ? err.reason : String(err))
      }
      return
    }
    const f = parseMatchForm(raw)
    if (typeof f === 'string') {
      cx.problems.error('invalid', p, f)
      return
    }
    if (f.kind === 'exact') {
      const id = SpiffeId.tryParse(withScheme(raw))
      if (!id) {
        cx.problems.error('invalid', p, `"${raw}" is not a valid SPIFFE ID`)
        return
      }
      forms.push({ kind: 'exact', value: id.toString() })
    } else if (f.kind === 'prefix') {
      const value = withScheme(f.value)
      if (!value.endsWith('/') && value.length > SCHEME.length) {
        cx.problems.warn(
          'prefix-not-segment',
          p,
          `prefix "${raw}" also matches IDs whose next segment merely starts with the same text; end it with "/*" to stop at a segment boundary, or use a template`,
          { rule: ruleId },
        )
      }
      forms.push({ kind: 'prefix', value })
    } else forms.push(f)
  })
  const str = forms.length > 0 ? compileForms(forms) : undefined
  if (templates.length === 0) return str ? (ctx) => str(ctx.id!) : () => false
  return (ctx) => {
    if (str?.(ctx.id!)) return true
    const id = ctx.caller.spiffeId!
    for (const t of templates) if (t.test(id)) return true
    return false
  }
}

export function compileTrustDomains(
  cx: PolicyCompiler,
  values: readonly string[],
  path: JsonPath,
): StringTest {
  const forms: MatchForm[] = []
  values.forEach((raw, i) => {
    const f = parseMatchForm(raw)
    if (typeof f === 'string') cx.problems.error('invalid', [...path, i], f)
    else if (f.kind === 'exact' && !TrustDomain.tryParse(raw)) {
      cx.problems.error('invalid', [...path, i], `"${raw}" is not a valid trust domain name`)
    } else forms.push(f)
  })
  return compileForms(forms)
}

export function compileRequestPrincipals(
  cx: PolicyCompiler,
  values: readonly { iss: string; sub: string }[],
  path: JsonPath,
): (iss: string, sub: string) => boolean {
  const pairs: [StringTest, StringTest][] = []
  values.forEach((v, i) => {
    const iss = parseMatchForm(v.iss)
    const sub = parseMatchForm(v.sub)
    if (typeof iss === 'string') cx.problems.error('invalid', [...path, i, 'iss'], iss)
    if (typeof sub === 'string') cx.problems.error('invalid', [...path, i, 'sub'], sub)
    if (typeof iss !== 'string' && typeof sub !== 'string')
      pairs.push([compileForms([iss]), compileForms([sub])])
  })
  return (iss, sub) => {
    for (const [i, s] of pairs) if (i(iss) && s(sub)) return true
    return false
  }
}
