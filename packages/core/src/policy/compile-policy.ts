// Compiles a validated policy document into its compiled form (compiled-policy.ts), once per routing
// mode. The parts of a rule are compiled by their own modules: compile-sources (from),
// compile-operations (to), compile-boundaries, compile-claims (scopes, when), and
// lint-reachability. Not exported from the package (the public entry points are loadPolicy,
// loadPolicyFile and definePolicy).
import { type HttpRouting, routingFor, routingKey } from '../caller/http-routing.js'
import { isSvidkitError } from '../errors/svidkit-error.js'
import { PathTemplate } from '../spiffe-id/path-template.js'
import { compileBoundary } from './compile-boundaries.js'
import { compileClaim, compileScopes } from './compile-claims.js'
import { compileOperation } from './compile-operations.js'
import { compileSource } from './compile-sources.js'
import {
  buildIndex,
  type Check,
  CONNECTION,
  type CompiledPolicy,
  type CompiledRule,
  EMPTY_AUDIT,
  GRPC,
  HTTP,
  IdentityReader,
  type Test,
} from './compiled-policy.js'
import { lintReachability } from './lint-reachability.js'
import { or, type PolicyCompiler } from './policy-compiler.js'
import { type JsonPath, ProblemList, policyError } from './policy-problems.js'
import { validatePolicySchema } from './policy-schema.js'
import type { Policy, PolicyDocument, PolicyRule } from './types.js'

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
    c = compile(compiler(forms.doc, new ProblemList(undefined, undefined), routingFor(key)))!
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
  const c = compiler(doc, problems, routing)
  const result = compile(c)
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

/** A new compilation of `doc` for `routing`. */
function compiler(doc: PolicyDocument, problems: ProblemList, routing: HttpRouting): PolicyCompiler {
  return { doc, problems, routing, summaries: [], identity: new IdentityReader([], new Set()) }
}

function compile(cx: PolicyCompiler): CompiledPolicy | undefined {
  const doc = cx.doc
  const defaultAction = doc.defaultAction ?? 'deny'
  if (defaultAction === 'allow') {
    cx.problems.warn(
      'default-allow',
      ['defaultAction'],
      'operations that no ALLOW rule targets are allowed for every authenticated caller',
    )
  }
  compileIdentity(cx)
  if (doc.rules.length === 0) {
    cx.problems.warn(
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
      cx.problems.error(
        'invalid',
        ['rules', i, 'id'],
        `duplicate rule id "${id}" (also rules[${seen.get(id)}])`,
      )
    }
    seen.set(id, i)
    cx.summaries.push(Object.freeze({ id, action: rule.action ?? 'ALLOW', index: i }))
    const r = compileRule(cx, rule, i, id)
    if (r) rules.push(r)
  }
  lintReachability(cx)
  if (cx.problems.hasErrors) return undefined
  return buildIndex(rules, defaultAction, cx.identity, cx.routing)
}

function compileIdentity(cx: PolicyCompiler): void {
  const spec = cx.doc.identity
  if (!spec) return
  const entries: [JsonPath, string][] = []
  if (spec.template !== undefined && spec.templates !== undefined) {
    cx.problems.error('invalid', ['identity'], 'use either "template" or "templates", not both')
    return
  }
  if (spec.template !== undefined) entries.push([['identity', 'template'], spec.template])
  else if (spec.templates !== undefined)
    spec.templates.forEach((t, i) => {
      entries.push([['identity', 'templates', i], t])
    })
  else {
    cx.problems.error('invalid', ['identity'], 'needs "template" or "templates"')
    return
  }
  const templates: PathTemplate[] = []
  const names = new Set<string>()
  for (const [path, t] of entries) {
    try {
      const tpl = PathTemplate.parse(t)
      for (const name of tpl.captureNames) {
        if (name === 'trustDomain') {
          cx.problems.error('invalid', path, '"trustDomain" is reserved and cannot be a capture name')
        }
        names.add(name)
      }
      templates.push(tpl)
    } catch (err) {
      cx.problems.error('invalid', path, isSvidkitError(err) ? err.reason : String(err))
    }
  }
  cx.identity = new IdentityReader(templates, names)
}

function compileRule(cx: PolicyCompiler, rule: PolicyRule, i: number, id: string): CompiledRule | undefined {
  const base: JsonPath = ['rules', i]
  const action = rule.action ?? 'ALLOW'
  const lenient = action !== 'ALLOW'
  const before = cx.problems.items.filter((p) => p.severity === 'error').length

  const conditionless =
    !rule.from && !rule.to && !rule.scopes && !rule.boundary && (!rule.when || rule.when.length === 0)
  if (action === 'DENY' && conditionless) {
    cx.problems.warn(
      'deny-without-conditions',
      base,
      `DENY rule "${id}" has no conditions: it denies every request`,
      {
        rule: id,
      },
    )
  }
  if (action === 'ALLOW' && !rule.from && !rule.boundary) {
    cx.problems.warn(
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
      const t = compileSource(cx, src as Record<string, unknown>, [...base, 'from', j], lenient, id)
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
      const r = compileOperation(
        cx,
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
    const c = compileScopes(cx, rule.scopes as Record<string, readonly string[] | undefined>, [
      ...base,
      'scopes',
    ])
    if (c) checks.push(c)
  }
  if (rule.boundary) {
    for (const [key, cond] of Object.entries(rule.boundary)) {
      const c = compileBoundary(cx, key, cond as Record<string, unknown>, [...base, 'boundary', key], lenient)
      if (c) checks.push(c)
    }
  }
  if (rule.when) {
    rule.when.forEach((cond, j) => {
      const c = compileClaim(cx, cond as unknown as Record<string, unknown>, [...base, 'when', j], lenient)
      if (c) checks.push(c)
    })
  }

  const after = cx.problems.items.filter((p) => p.severity === 'error').length
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
