// Compiles a validated policy document into per-rule predicates, indexed by operation kind and
// HTTP method, so that evaluation is a few closure calls. Not exported from the package (the
// public entry points are loadPolicy, loadPolicyFile and definePolicy).
import type { Caller } from '../caller/caller.js'
import { type HttpRouting, routingFor, routingKey } from '../caller/http-routing.js'
import { isSvidkitError } from '../errors/svidkit-error.js'
import { firstCaptures, PathTemplate } from '../spiffe-id/path-template.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'
import { foldPath, normalizeHttpPath } from './normalize-http-path.js'
import { type JsonPath, ProblemList, policyError } from './policy-problems.js'
import { validatePolicySchema } from './policy-schema.js'
import {
  compileForms,
  compileHttpPathTemplate,
  type MatchForm,
  parseMatchForm,
  type StringTest,
} from './string-match.js'
import type {
  Decision,
  DefaultAction,
  Policy,
  PolicyDocument,
  PolicyRule,
  PolicyRuleSummary,
  RuleAction,
} from './types.js'

// ---------------------------------------------------------------------------------------------
// Compiled shapes
// ---------------------------------------------------------------------------------------------

/** Per-request evaluation state. A class so V8 keeps one hidden class. */
export class EvalContext {
  /** Caller captures: `undefined` = not computed yet, `null` = no SPIFFE ID or no template matched. */
  callerCaptures: Readonly<Record<string, string>> | null | undefined = undefined

  constructor(
    readonly caller: Caller,
    /** The caller's SPIFFE ID text, for SPIFFE channels. */
    readonly id: string | undefined,
    /** The caller's trust domain name, for SPIFFE channels. */
    readonly td: string | undefined,
    readonly kind: 'http' | 'grpc' | 'connection',
    /** Upper-case HTTP method, or the full gRPC method. */
    readonly method: string,
    /** The normalized HTTP path, canonical under the router's routing (`''` for gRPC). */
    readonly path: string,
    readonly pathNormal: boolean,
    readonly pathProblem: string | undefined,
    readonly self: SpiffeId | undefined,
    /** The route template when it has no parameters (the handler's own path), canonical; DENY/AUDIT rules also match it. */
    readonly route: string | undefined,
  ) {}
}

type Test = (ctx: EvalContext) => boolean

/** A rule condition other than `from` / `to`, with a human explanation. */
export interface Check {
  readonly kind: 'scopes' | 'boundary' | 'claim'
  readonly test: Test
  /** Why the check passed (`true`) or failed (`false`). */
  explain(ctx: EvalContext, passed: boolean): string
  /** For scope checks: the scopes the rule requires. */
  readonly requiredScopes?: readonly string[]
}

export interface CompiledRule {
  readonly id: string
  readonly index: number
  readonly action: RuleAction
  /** Bit 1: can match HTTP operations; bit 2: gRPC operations; bit 4: connections (rules without `to`). */
  readonly kinds: number
  /** HTTP methods this rule can match, or `null` for any. */
  readonly httpMethods: ReadonlySet<string> | null
  readonly to: Test | null
  readonly from: Test | null
  readonly checks: readonly Check[]
  /** The preallocated allow decision (ALLOW rules). */
  readonly allowDecision: Decision
}

export interface RuleBucket {
  readonly audit: readonly CompiledRule[]
  readonly deny: readonly CompiledRule[]
  readonly allow: readonly CompiledRule[]
}

export interface CompiledPolicy {
  /** The routing its HTTP path and method conditions were compiled for. */
  readonly routing: HttpRouting
  readonly defaultAction: DefaultAction
  readonly http: ReadonlyMap<string, RuleBucket>
  readonly httpOther: RuleBucket
  readonly grpc: RuleBucket
  /** Rules without `to`: what decides a TLS connection in the handshake. */
  readonly connection: RuleBucket
  readonly identity: IdentityReader
}

const HTTP = 1
const GRPC = 2
const CONNECTION = 4

export const EMPTY_AUDIT: readonly string[] = Object.freeze([])

// ---------------------------------------------------------------------------------------------
// Identity templates (boundary captures)
// ---------------------------------------------------------------------------------------------

/** Reads boundary captures out of SPIFFE IDs with the policy's identity templates. */
export class IdentityReader {
  #selfKey: string | undefined
  #selfCaptures: Readonly<Record<string, string>> | null = null

  constructor(
    readonly templates: readonly PathTemplate[],
    readonly captureNames: ReadonlySet<string>,
  ) {}

  /** Captures of the first template that matches, or `null`. */
  read(id: SpiffeId): Readonly<Record<string, string>> | null {
    return firstCaptures(this.templates, id) ?? null
  }

  callerCaptures(ctx: EvalContext): Readonly<Record<string, string>> | null {
    if (ctx.callerCaptures === undefined) {
      const id = ctx.caller.spiffeId
      ctx.callerCaptures = id ? this.read(id) : null
    }
    return ctx.callerCaptures
  }

  /** Self captures, cached for the last self ID seen (a service's own ID rarely changes). */
  selfCaptures(self: SpiffeId | undefined): Readonly<Record<string, string>> | null {
    if (!self) return null
    const key = self.toString()
    if (key !== this.#selfKey) {
      this.#selfCaptures = this.read(self)
      this.#selfKey = key
    }
    return this.#selfCaptures
  }
}

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

/** A loaded policy's compiled forms, one per routing mode (by `routingKey`), compiled on first use. */
interface CompiledForms {
  readonly doc: PolicyDocument
  readonly byRouting: (CompiledPolicy | undefined)[]
}

const compiled = new WeakMap<Policy, CompiledForms>()

/**
 * The compiled form of a policy built by this module, for a router's routing (default: exact). Path
 * patterns and method sets are canonicalised once per routing mode, on first use.
 */
export function getCompiledPolicy(policy: Policy, routing?: HttpRouting): CompiledPolicy | undefined {
  const forms = compiled.get(policy)
  if (forms === undefined) return undefined
  const key = routingKey(routing)
  let c = forms.byRouting[key]
  if (c === undefined) {
    // The document was validated when it was loaded: a recompilation only changes path and method
    // matching, so its problems (warnings) are the same and are not reported again.
    c = new Compiler(forms.doc, new ProblemList(undefined, undefined), routingFor(key)).compile()!
    forms.byRouting[key] = c
  }
  return c
}

/** Whether `policy` was built by this module (`loadPolicy`, `loadPolicyFile`, `definePolicy`). */
export function isCompiledPolicy(policy: Policy): boolean {
  return compiled.has(policy)
}

/**
 * Validates (schema, then values) and compiles a parsed document. Problems (errors and lint
 * warnings) are collected in `problems`; `policy` is `undefined` when there is any error.
 */
export function compilePolicyValue(
  value: unknown,
  problems: ProblemList,
  filename: string | undefined,
): Policy | undefined {
  if (!validatePolicySchema(value, problems)) return undefined
  const doc = value as PolicyDocument
  const routing = routingFor(routingKey(undefined))
  const c = new Compiler(doc, problems, routing)
  const result = c.compile()
  if (!result || problems.hasErrors) return undefined
  const policy: Policy = Object.freeze({
    document: deepFreeze(doc),
    defaultAction: result.defaultAction,
    rules: Object.freeze(c.summaries),
    filename,
  })
  const byRouting: (CompiledPolicy | undefined)[] = []
  byRouting[routingKey(routing)] = result
  compiled.set(policy, { doc: policy.document, byRouting })
  return policy
}

/** Throws `ERR_POLICY_INVALID` for the first error. */
export function compileOrThrow(value: unknown, problems: ProblemList, filename: string | undefined): Policy {
  const policy = compilePolicyValue(value, problems, filename)
  if (!policy) throw policyError(problems.sorted(), filename)
  return policy
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

// ---------------------------------------------------------------------------------------------
// Description helpers (also used by the evaluator)
// ---------------------------------------------------------------------------------------------

const MAX_SHOWN = 200

export function clip(s: string): string {
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s
}

/** `spiffe://td/a` or `oidc iss "https://issuer" sub "user"`. */
export function describeCaller(caller: Caller): string {
  if (caller.spiffeId) return caller.spiffeId.toString()
  if (caller.principal) return `oidc iss "${clip(caller.principal.iss)}" sub "${clip(caller.principal.sub)}"`
  return 'unknown caller'
}

export function describeOperation(ctx: EvalContext): string {
  if (ctx.kind === 'connection') return 'a TLS connection'
  return ctx.kind === 'http' ? `${clip(ctx.method)} ${clip(ctx.path)}` : `gRPC ${clip(ctx.method)}`
}

const list = (values: readonly unknown[]): string =>
  `[${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}]`

// ---------------------------------------------------------------------------------------------
// The compiler
// ---------------------------------------------------------------------------------------------

const HTTP_KEYS = ['methods', 'notMethods', 'paths', 'notPaths'] as const
const GRPC_KEYS = ['grpcMethods', 'notGrpcMethods'] as const
const METHOD_TOKEN = /^[A-Z][A-Z0-9_-]*$/
const GRPC_METHOD = /^\/[^/\s]+\/[^/\s]+$/
const BOUNDARY_OPS = ['sameAs', 'notSameAs', 'equals', 'notEquals', 'in', 'notIn'] as const
const CLAIM_OPS = ['equals', 'notEquals', 'in', 'notIn'] as const
const SCHEME = 'spiffe://'

type Op = (typeof BOUNDARY_OPS)[number]

const withScheme = (v: string): string => (v.startsWith(SCHEME) ? v : SCHEME + v)
const or = (tests: readonly Test[]): Test => {
  if (tests.length === 1) return tests[0]!
  return (ctx) => {
    for (const t of tests) if (t(ctx)) return true
    return false
  }
}
const and = (tests: readonly Test[]): Test => {
  if (tests.length === 1) return tests[0]!
  return (ctx) => {
    for (const t of tests) if (!t(ctx)) return false
    return true
  }
}

class Compiler {
  readonly summaries: PolicyRuleSummary[] = []
  identity = new IdentityReader([], new Set())

  constructor(
    readonly doc: PolicyDocument,
    readonly problems: ProblemList,
    readonly routing: HttpRouting,
  ) {}

  compile(): CompiledPolicy | undefined {
    const doc = this.doc
    const defaultAction = doc.defaultAction ?? 'deny'
    if (defaultAction === 'allow') {
      this.problems.warn(
        'default-allow',
        ['defaultAction'],
        'operations that no ALLOW rule targets are allowed for every authenticated caller',
      )
    }
    this.compileIdentity()
    if (doc.rules.length === 0) {
      this.problems.warn(
        'no-rules',
        ['rules'],
        `policy has no rules: every request gets the default (${defaultAction})`,
      )
    }
    const rules: CompiledRule[] = []
    const seen = new Map<string, number>()
    for (const [i, rule] of doc.rules.entries()) {
      const id = rule.id ?? `rules[${i}]`
      if (seen.has(id)) {
        this.problems.error(
          'invalid',
          ['rules', i, 'id'],
          `duplicate rule id "${id}" (also rules[${seen.get(id)}])`,
        )
      }
      seen.set(id, i)
      this.summaries.push(Object.freeze({ id, action: rule.action ?? 'ALLOW', index: i }))
      const r = this.compileRule(rule, i, id)
      if (r) rules.push(r)
    }
    this.lintReachability()
    if (this.problems.hasErrors) return undefined
    return buildIndex(rules, defaultAction, this.identity, this.routing)
  }

  compileIdentity(): void {
    const spec = this.doc.identity
    if (!spec) return
    const entries: [JsonPath, string][] = []
    if (spec.template !== undefined && spec.templates !== undefined) {
      this.problems.error('invalid', ['identity'], 'use either "template" or "templates", not both')
      return
    }
    if (spec.template !== undefined) entries.push([['identity', 'template'], spec.template])
    else if (spec.templates !== undefined)
      spec.templates.forEach((t, i) => {
        entries.push([['identity', 'templates', i], t])
      })
    else {
      this.problems.error('invalid', ['identity'], 'needs "template" or "templates"')
      return
    }
    const templates: PathTemplate[] = []
    const names = new Set<string>()
    for (const [path, t] of entries) {
      try {
        const tpl = PathTemplate.parse(t)
        for (const name of tpl.captureNames) {
          if (name === 'trustDomain') {
            this.problems.error('invalid', path, '"trustDomain" is reserved and cannot be a capture name')
          }
          names.add(name)
        }
        templates.push(tpl)
      } catch (err) {
        this.problems.error('invalid', path, isSvidkitError(err) ? err.reason : String(err))
      }
    }
    this.identity = new IdentityReader(templates, names)
  }

  compileRule(rule: PolicyRule, i: number, id: string): CompiledRule | undefined {
    const base: JsonPath = ['rules', i]
    const action = rule.action ?? 'ALLOW'
    const lenient = action !== 'ALLOW'
    const before = this.problems.items.filter((p) => p.severity === 'error').length

    const conditionless =
      !rule.from && !rule.to && !rule.scopes && !rule.boundary && (!rule.when || rule.when.length === 0)
    if (action === 'DENY' && conditionless) {
      this.problems.warn(
        'deny-without-conditions',
        base,
        `DENY rule "${id}" has no conditions: it denies every request`,
        {
          rule: id,
        },
      )
    }
    if (action === 'ALLOW' && !rule.from && !rule.boundary) {
      this.problems.warn(
        'allow-without-from',
        base,
        `ALLOW rule "${id}" has no "from" or "boundary": it allows any authenticated caller${rule.scopes || rule.when ? ' that passes its scope/claim conditions' : ''}`,
        { rule: id },
      )
    }

    let from: Test | null = null
    if (rule.from) {
      const sources: Test[] = []
      rule.from.forEach((src, j) => {
        const t = this.compileSource(src as Record<string, unknown>, [...base, 'from', j], lenient, id)
        if (t) sources.push(t)
      })
      from = sources.length > 0 ? or(sources) : null
    }

    let to: Test | null = null
    let kinds = HTTP | GRPC | CONNECTION
    let httpMethods: Set<string> | null = null
    if (rule.to) {
      const entries: Test[] = []
      kinds = 0
      let methodsKnown = true
      const methods = new Set<string>()
      rule.to.forEach((op, j) => {
        const r = this.compileOperation(
          op as Record<string, readonly string[] | undefined>,
          [...base, 'to', j],
          lenient,
        )
        if (!r) return
        entries.push(r.test)
        kinds |= r.kind
        if (r.kind === HTTP) {
          if (r.methods) for (const m of r.methods) methods.add(m)
          else methodsKnown = false
        }
      })
      to = entries.length > 0 ? or(entries) : null
      if (methodsKnown && methods.size > 0) httpMethods = methods
    }

    const checks: Check[] = []
    if (rule.scopes) {
      const c = this.compileScopes(rule.scopes as Record<string, readonly string[] | undefined>, [
        ...base,
        'scopes',
      ])
      if (c) checks.push(c)
    }
    if (rule.boundary) {
      for (const [key, cond] of Object.entries(rule.boundary)) {
        const c = this.compileBoundary(
          key,
          cond as Record<string, unknown>,
          [...base, 'boundary', key],
          lenient,
        )
        if (c) checks.push(c)
      }
    }
    if (rule.when) {
      rule.when.forEach((cond, j) => {
        const c = this.compileClaim(cond as unknown as Record<string, unknown>, [...base, 'when', j], lenient)
        if (c) checks.push(c)
      })
    }

    const after = this.problems.items.filter((p) => p.severity === 'error').length
    if (after !== before) return undefined
    return {
      id,
      index: i,
      action,
      kinds,
      httpMethods,
      to,
      from,
      checks,
      allowDecision: Object.freeze({
        decision: 'allow',
        rule: id,
        reason: `allowed by rule "${id}"`,
        audit: EMPTY_AUDIT,
      }),
    }
  }

  // --- from ------------------------------------------------------------------------------------

  compileSource(
    src: Record<string, unknown>,
    path: JsonPath,
    lenient: boolean,
    ruleId: string,
  ): Test | undefined {
    const tests: Test[] = []
    const keys = Object.keys(src)
    if (keys.length === 0) {
      this.problems.error(
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
      const m = this.compilePrincipals(s.principals, [...path, 'principals'], ruleId)
      tests.push((ctx) => ctx.id !== undefined && m(ctx))
    }
    if (s.notPrincipals) {
      const m = this.compilePrincipals(s.notPrincipals, [...path, 'notPrincipals'], ruleId)
      tests.push((ctx) => (ctx.id === undefined ? lenient : !m(ctx)))
    }
    if (s.trustDomains) {
      const m = this.compileTrustDomains(s.trustDomains, [...path, 'trustDomains'])
      tests.push((ctx) => ctx.td !== undefined && m(ctx.td))
    }
    if (s.notTrustDomains) {
      const m = this.compileTrustDomains(s.notTrustDomains, [...path, 'notTrustDomains'])
      tests.push((ctx) => (ctx.td === undefined ? lenient : !m(ctx.td)))
    }
    if (s.requestPrincipals) {
      const m = this.compileRequestPrincipals(s.requestPrincipals, [...path, 'requestPrincipals'])
      tests.push(
        (ctx) => ctx.caller.principal !== undefined && m(ctx.caller.principal.iss, ctx.caller.principal.sub),
      )
    }
    if (s.notRequestPrincipals) {
      const m = this.compileRequestPrincipals(s.notRequestPrincipals, [...path, 'notRequestPrincipals'])
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
      this.problems.warn(
        'never-matches',
        path,
        'this source can never match: principals/trustDomains need a SPIFFE caller (mtls, xfcc, jwt) and requestPrincipals an oidc caller',
        { rule: ruleId },
      )
    }
    return and(tests)
  }

  compilePrincipals(values: readonly string[], path: JsonPath, ruleId: string): Test {
    const forms: MatchForm[] = []
    const templates: PathTemplate[] = []
    values.forEach((raw, i) => {
      const p = [...path, i]
      if (raw.includes('{')) {
        const rest = raw.startsWith(SCHEME) ? raw.slice(SCHEME.length) : raw
        const slash = rest.indexOf('/')
        if (slash <= 0) {
          this.problems.error(
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
            this.problems.error('invalid', p, `"${tdName}" is not a valid trust domain name`)
            return
          }
        }
        try {
          templates.push(PathTemplate.parse(rest.slice(slash), td ? { trustDomain: td } : {}))
        } catch (err) {
          this.problems.error('invalid', p, isSvidkitError(err) ? err.reason : String(err))
        }
        return
      }
      const f = parseMatchForm(raw)
      if (typeof f === 'string') {
        this.problems.error('invalid', p, f)
        return
      }
      if (f.kind === 'exact') {
        const id = SpiffeId.tryParse(withScheme(raw))
        if (!id) {
          this.problems.error('invalid', p, `"${raw}" is not a valid SPIFFE ID`)
          return
        }
        forms.push({ kind: 'exact', value: id.toString() })
      } else if (f.kind === 'prefix') {
        const value = withScheme(f.value)
        if (!value.endsWith('/') && value.length > SCHEME.length) {
          this.problems.warn(
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

  compileTrustDomains(values: readonly string[], path: JsonPath): StringTest {
    const forms: MatchForm[] = []
    values.forEach((raw, i) => {
      const f = parseMatchForm(raw)
      if (typeof f === 'string') this.problems.error('invalid', [...path, i], f)
      else if (f.kind === 'exact' && !TrustDomain.tryParse(raw)) {
        this.problems.error('invalid', [...path, i], `"${raw}" is not a valid trust domain name`)
      } else forms.push(f)
    })
    return compileForms(forms)
  }

  compileRequestPrincipals(
    values: readonly { iss: string; sub: string }[],
    path: JsonPath,
  ): (iss: string, sub: string) => boolean {
    const pairs: [StringTest, StringTest][] = []
    values.forEach((v, i) => {
      const iss = parseMatchForm(v.iss)
      const sub = parseMatchForm(v.sub)
      if (typeof iss === 'string') this.problems.error('invalid', [...path, i, 'iss'], iss)
      if (typeof sub === 'string') this.problems.error('invalid', [...path, i, 'sub'], sub)
      if (typeof iss !== 'string' && typeof sub !== 'string')
        pairs.push([compileForms([iss]), compileForms([sub])])
    })
    return (iss, sub) => {
      for (const [i, s] of pairs) if (i(iss) && s(sub)) return true
      return false
    }
  }

  // --- to --------------------------------------------------------------------------------------

  compileOperation(
    op: Record<string, readonly string[] | undefined>,
    path: JsonPath,
    lenient: boolean,
  ): { test: Test; kind: number; methods: readonly string[] | null } | undefined {
    const isHttp = HTTP_KEYS.some((k) => op[k] !== undefined)
    const isGrpc = GRPC_KEYS.some((k) => op[k] !== undefined)
    if (isHttp && isGrpc) {
      this.problems.error(
        'invalid',
        path,
        'an operation is either HTTP (methods, paths) or gRPC (grpcMethods), not both; use two entries',
      )
      return undefined
    }
    if (!isHttp && !isGrpc) {
      this.problems.error(
        'invalid',
        path,
        'an operation needs at least one field (methods, paths or grpcMethods)',
      )
      return undefined
    }
    const tests: Test[] = []
    if (isGrpc) {
      if (op.grpcMethods) {
        const t = this.compileGrpcMethods(op.grpcMethods, [...path, 'grpcMethods'])
        tests.push((ctx) => t(ctx.method))
      }
      if (op.notGrpcMethods) {
        const t = this.compileGrpcMethods(op.notGrpcMethods, [...path, 'notGrpcMethods'])
        tests.push((ctx) => !t(ctx.method))
      }
      const all = and(tests)
      return { test: (ctx) => ctx.kind === 'grpc' && all(ctx), kind: GRPC, methods: null }
    }
    let methods: readonly string[] | null = null
    if (op.methods) {
      const t = this.compileMethods(op.methods, [...path, 'methods'])
      tests.push(t.test)
      methods = t.methods
    }
    if (op.notMethods) {
      const t = this.compileMethods(op.notMethods, [...path, 'notMethods'])
      tests.push((ctx) => !t.test(ctx))
    }
    // DENY and AUDIT path conditions also hold when they hold for the handler's own path (a route
    // template without parameters), so that a router quirk svidkit does not model never skips them.
    if (op.paths) {
      const t = this.compilePaths(op.paths, [...path, 'paths'])
      tests.push(
        lenient
          ? (ctx) => !ctx.pathNormal || t(ctx.path) || (ctx.route !== undefined && t(ctx.route))
          : (ctx) => ctx.pathNormal && t(ctx.path),
      )
    }
    if (op.notPaths) {
      const t = this.compilePaths(op.notPaths, [...path, 'notPaths'])
      tests.push(
        lenient
          ? (ctx) => !ctx.pathNormal || !t(ctx.path) || (ctx.route !== undefined && !t(ctx.route))
          : (ctx) => ctx.pathNormal && !t(ctx.path),
      )
    }
    const all = and(tests)
    return { test: (ctx) => ctx.kind === 'http' && all(ctx), kind: HTTP, methods }
  }

  /** A method set; where the router serves `HEAD` with `GET` handlers, `GET` stands for both. */
  compileMethods(
    values: readonly string[],
    path: JsonPath,
  ): { test: Test; methods: readonly string[] | null } {
    if (values.includes('*')) return { test: () => true, methods: null }
    values.forEach((m, i) => {
      if (!METHOD_TOKEN.test(m)) {
        this.problems.error(
          'invalid',
          [...path, i],
          `"${m}" is not an upper-case HTTP method (e.g. GET) or "*"`,
        )
      }
    })
    const set = new Set(values)
    if (this.routing.headAsGet && set.has('GET')) set.add('HEAD')
    return { test: (ctx) => set.has(ctx.method), methods: [...set] }
  }

  compilePaths(values: readonly string[], path: JsonPath): StringTest {
    const forms: MatchForm[] = []
    const templates: StringTest[] = []
    values.forEach((raw, i) => {
      const p = [...path, i]
      if (raw.includes('{')) {
        const t = compileHttpPathTemplate(foldPath(raw, this.routing, true))
        if (typeof t === 'string') this.problems.error('invalid', p, t)
        else {
          const n = normalizeHttpPath(raw.replace(/\{\*\*?\}/g, 'x'))
          if (!n.normal)
            this.problems.error('invalid', p, `path template is not in normal form: ${n.problem}`)
          templates.push(t)
        }
        return
      }
      const f = parseMatchForm(raw)
      if (typeof f === 'string') {
        this.problems.error('invalid', p, f)
        return
      }
      if (f.kind === 'exact' || f.kind === 'prefix') {
        if (!f.value.startsWith('/')) {
          this.problems.error('invalid', p, `path "${raw}" must start with "/" (or be a "*suffix" form)`)
          return
        }
        const n = normalizeHttpPath(f.value)
        if (!n.normal || n.path.includes('?') || n.path.includes('#')) {
          this.problems.error(
            'invalid',
            p,
            `path "${raw}" is not in normal form${n.problem ? `: ${n.problem}` : ''}`,
          )
          return
        }
        // Folded like request paths; a prefix keeps its trailing slash ("below /orders/").
        forms.push({ kind: f.kind, value: foldPath(n.path, this.routing, f.kind === 'exact') })
      } else if (f.kind === 'suffix')
        forms.push({ kind: 'suffix', value: foldPath(f.value, this.routing, false) })
      else forms.push(f)
    })
    const str = forms.length > 0 ? compileForms(forms) : undefined
    if (templates.length === 0) return str ?? (() => false)
    return (v) => {
      if (str?.(v)) return true
      for (const t of templates) if (t(v)) return true
      return false
    }
  }

  compileGrpcMethods(values: readonly string[], path: JsonPath): StringTest {
    const forms: MatchForm[] = []
    values.forEach((raw, i) => {
      const p = [...path, i]
      const f = parseMatchForm(raw)
      if (typeof f === 'string' || raw.includes('{')) {
        this.problems.error(
          'invalid',
          p,
          `"${raw}" is not a gRPC method pattern: use "/pkg.Service/Method", "/pkg.Service/*" or "*"`,
        )
        return
      }
      if (f.kind === 'exact' && !GRPC_METHOD.test(f.value)) {
        this.problems.error('invalid', p, `"${raw}" is not a full gRPC method name ("/pkg.Service/Method")`)
        return
      }
      if (f.kind === 'prefix' && !f.value.startsWith('/')) {
        this.problems.error('invalid', p, `"${raw}" must start with "/" (e.g. "/pkg.Service/*")`)
        return
      }
      forms.push(f)
    })
    return compileForms(forms)
  }

  // --- scopes ----------------------------------------------------------------------------------

  compileScopes(spec: Record<string, readonly string[] | undefined>, path: JsonPath): Check | undefined {
    const { allOf, anyOf } = spec
    if ((allOf === undefined) === (anyOf === undefined)) {
      this.problems.error('invalid', path, 'needs exactly one of "allOf" or "anyOf"')
      return undefined
    }
    const required = (allOf ?? anyOf)!
    const key = allOf ? 'allOf' : 'anyOf'
    required.forEach((s, i) => {
      if (/\s/.test(s))
        this.problems.error('invalid', [...path, key, i], `scope "${s}" cannot contain whitespace`)
    })
    const shown = list(required)
    if (allOf) {
      return {
        kind: 'scopes',
        requiredScopes: Object.freeze([...required]),
        test: (ctx) => {
          const have = ctx.caller.scopes
          for (const r of required) if (!have.includes(r)) return false
          return true
        },
        explain: (ctx, passed) => {
          if (passed) return `caller has all of the scopes ${shown}`
          const missing = required.filter((r) => !ctx.caller.scopes.includes(r))
          return `caller lacks scope${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (requires all of ${shown})`
        },
      }
    }
    return {
      kind: 'scopes',
      requiredScopes: Object.freeze([...required]),
      test: (ctx) => {
        const have = ctx.caller.scopes
        for (const r of required) if (have.includes(r)) return true
        return false
      },
      explain: (_ctx, passed) =>
        passed
          ? `caller has one of the scopes ${shown}`
          : `caller has none of the scopes ${shown} (requires any of them)`,
    }
  }

  // --- boundary --------------------------------------------------------------------------------

  compileBoundary(
    key: string,
    cond: Record<string, unknown>,
    path: JsonPath,
    lenient: boolean,
  ): Check | undefined {
    const ops = BOUNDARY_OPS.filter((o) => cond[o] !== undefined)
    if (ops.length !== 1) {
      this.problems.error('invalid', path, `needs exactly one of ${BOUNDARY_OPS.join(', ')}`)
      return undefined
    }
    const op = ops[0]! as Op
    const isTd = key === 'trustDomain'
    if (!isTd) {
      if (!this.doc.identity) {
        this.problems.error(
          'invalid',
          path,
          `boundary "${key}" needs an identity template that captures it (identity.template), or use "trustDomain"`,
          { key: true },
        )
        return undefined
      }
      if (!this.identity.captureNames.has(key)) {
        this.problems.error(
          'invalid',
          path,
          `"${key}" is not captured by the identity template${this.identity.templates.length > 1 ? 's' : ''} (captures: ${[...this.identity.captureNames].join(', ') || 'none'})`,
          { key: true },
        )
        return undefined
      }
    }
    const operand = cond[op]
    if (isTd && (op === 'equals' || op === 'notEquals' || op === 'in' || op === 'notIn')) {
      const names = Array.isArray(operand) ? (operand as string[]) : [operand as string]
      names.forEach((n, i) => {
        if (!TrustDomain.tryParse(n)) {
          this.problems.error(
            'invalid',
            Array.isArray(operand) ? [...path, op, i] : [...path, op],
            `"${n}" is not a valid trust domain name`,
          )
        }
      })
    }
    const identity = this.identity
    const label = isTd ? 'trust domain' : key
    const callerValue = (ctx: EvalContext): string | undefined =>
      isTd ? ctx.td : identity.callerCaptures(ctx)?.[key]
    const selfValue = (ctx: EvalContext): string | undefined =>
      isTd ? ctx.self?.trustDomain.name : identity.selfCaptures(ctx.self)?.[key]
    const set = Array.isArray(operand) ? new Set(operand as string[]) : undefined
    const constant = typeof operand === 'string' ? operand : undefined

    let test: Test
    switch (op) {
      case 'sameAs':
      case 'notSameAs': {
        const same = op === 'sameAs'
        test = (ctx) => {
          const v = callerValue(ctx)
          if (v === undefined) return lenient
          const s = selfValue(ctx)
          if (s === undefined) return lenient
          return (v === s) === same
        }
        break
      }
      case 'equals':
        test = (ctx) => {
          const v = callerValue(ctx)
          return v === undefined ? lenient : v === constant
        }
        break
      case 'notEquals':
        test = (ctx) => {
          const v = callerValue(ctx)
          return v === undefined ? lenient : v !== constant
        }
        break
      case 'in':
        test = (ctx) => {
          const v = callerValue(ctx)
          return v === undefined ? lenient : set!.has(v)
        }
        break
      case 'notIn':
        test = (ctx) => {
          const v = callerValue(ctx)
          return v === undefined ? lenient : !set!.has(v)
        }
        break
    }

    // The message states the facts, so it reads right both for a passed DENY and a failed ALLOW.
    const explain = (ctx: EvalContext): string => {
      const v = callerValue(ctx)
      if (v === undefined) {
        const why = !ctx.caller.spiffeId
          ? `caller ${describeCaller(ctx.caller)} has no SPIFFE ID`
          : isTd
            ? 'caller has no trust domain'
            : identity.callerCaptures(ctx) === null
              ? `caller ${ctx.id} does not match the identity template`
              : `the identity template that matches caller ${ctx.id} has no "${key}" capture`
        return `${why}, so boundary "${key}" fails closed`
      }
      const cv = `caller ${label} "${clip(v)}"`
      if (op === 'sameAs' || op === 'notSameAs') {
        const s = selfValue(ctx)
        if (s === undefined) {
          const why = !ctx.self
            ? 'self ID is unknown'
            : isTd
              ? 'self has no trust domain'
              : `self ${ctx.self} does not match the identity template`
          return `${why}, so boundary "${key}" fails closed`
        }
        return v === s
          ? `${cv} is the same as self ${label}`
          : `${cv} differs from self ${label} "${clip(s)}"`
      }
      if (op === 'equals') return v === constant ? `${cv} is "${constant}"` : `${cv} is not "${constant}"`
      if (op === 'notEquals') return v === constant ? `${cv} is "${constant}"` : `${cv} is not "${constant}"`
      const inSet = set!.has(v)
      return inSet ? `${cv} is one of ${list([...set!])}` : `${cv} is not one of ${list([...set!])}`
    }
    return { kind: 'boundary', test, explain }
  }

  // --- when (claims) ---------------------------------------------------------------------------

  compileClaim(cond: Record<string, unknown>, path: JsonPath, lenient: boolean): Check | undefined {
    const ops = CLAIM_OPS.filter((o) => cond[o] !== undefined)
    if (ops.length !== 1) {
      this.problems.error('invalid', path, `needs "claim" and exactly one of ${CLAIM_OPS.join(', ')}`)
      return undefined
    }
    const op = ops[0]!
    const claimPath = typeof cond.claim === 'string' ? [cond.claim] : (cond.claim as string[])
    const name = `claim "${claimPath.join('.')}"`
    const read = (caller: Caller): unknown => {
      let v: unknown = caller.claims
      for (const k of claimPath) {
        if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, k)) return undefined
        v = (v as Record<string, unknown>)[k]
      }
      return v
    }
    const operand = cond[op]
    const set = Array.isArray(operand) ? new Set<unknown>(operand) : undefined
    const has = (v: unknown): boolean =>
      Array.isArray(v) ? v.some((x) => (set ? set.has(x) : x === operand)) : set ? set.has(v) : v === operand
    const positive = op === 'equals' || op === 'in'
    const test: Test = (ctx) => {
      const v = read(ctx.caller)
      if (v === undefined) return positive ? false : lenient
      return has(v) === positive
    }
    const shown = set ? list([...set]) : JSON.stringify(operand)
    const explain = (ctx: EvalContext): string => {
      const v = read(ctx.caller)
      if (v === undefined)
        return positive ? `caller has no ${name}` : `caller has no ${name}, so the condition fails closed`
      const hit = has(v)
      if (set) return hit ? `${name} is one of ${shown}` : `${name} is not one of ${shown}`
      return hit ? `${name} is ${shown}` : `${name} is not ${shown}`
    }
    return { kind: 'claim', test, explain }
  }

  // --- lint: reachability ----------------------------------------------------------------------

  lintReachability(): void {
    const rules = this.doc.rules
    const ids = this.summaries
    const conditionless = (r: PolicyRule): boolean =>
      !r.from && !r.to && !r.scopes && !r.boundary && (!r.when || r.when.length === 0)
    const denyAll = rules.findIndex((r) => r.action === 'DENY' && conditionless(r))
    const canonical = rules.map((r) =>
      stableStringify({ ...r, id: undefined, description: undefined, action: r.action ?? 'ALLOW' }),
    )
    let allowAll = -1
    for (const [i, r] of rules.entries()) {
      const action = r.action ?? 'ALLOW'
      const id = ids[i]?.id ?? `rules[${i}]`
      if (action === 'ALLOW' && denyAll !== -1) {
        this.problems.warn(
          'unreachable-rule',
          ['rules', i],
          `rule "${id}" is unreachable: DENY rule "${ids[denyAll]?.id}" denies every request`,
          { rule: id },
        )
        continue
      }
      if (action === 'ALLOW' && allowAll !== -1) {
        this.problems.warn(
          'unreachable-rule',
          ['rules', i],
          `rule "${id}" is unreachable: rule "${ids[allowAll]?.id}" before it allows every request`,
          { rule: id },
        )
        continue
      }
      const dup = canonical.indexOf(canonical[i]!)
      if (dup < i) {
        this.problems.warn(
          'unreachable-rule',
          ['rules', i],
          `rule "${id}" is unreachable: it has the same action and conditions as rule "${ids[dup]?.id}"`,
          { rule: id },
        )
      }
      if (action === 'ALLOW' && conditionless(r) && allowAll === -1) allowAll = i
    }
  }
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableStringify(x)}`).join(',')}}`
  }
  return JSON.stringify(v)
}

// ---------------------------------------------------------------------------------------------
// Index: rules per operation kind and HTTP method, in document order
// ---------------------------------------------------------------------------------------------

function bucket(rules: readonly CompiledRule[], keep: (r: CompiledRule) => boolean): RuleBucket {
  const selected = rules.filter(keep)
  return Object.freeze({
    audit: Object.freeze(selected.filter((r) => r.action === 'AUDIT')),
    deny: Object.freeze(selected.filter((r) => r.action === 'DENY')),
    allow: Object.freeze(selected.filter((r) => r.action === 'ALLOW')),
  })
}

function buildIndex(
  rules: readonly CompiledRule[],
  defaultAction: DefaultAction,
  identity: IdentityReader,
  routing: HttpRouting,
): CompiledPolicy {
  const methods = new Set<string>()
  for (const r of rules) if (r.httpMethods) for (const m of r.httpMethods) methods.add(m)
  const http = new Map<string, RuleBucket>()
  for (const m of methods) {
    http.set(
      m,
      bucket(rules, (r) => (r.kinds & HTTP) !== 0 && (r.httpMethods === null || r.httpMethods.has(m))),
    )
  }
  return Object.freeze({
    routing,
    defaultAction,
    http,
    httpOther: bucket(rules, (r) => (r.kinds & HTTP) !== 0 && r.httpMethods === null),
    grpc: bucket(rules, (r) => (r.kinds & GRPC) !== 0),
    connection: bucket(rules, (r) => (r.kinds & CONNECTION) !== 0),
    identity,
  })
}
