import type { HttpRouting } from '../caller/http-routing.js'
import { PolicyError } from '../errors/domain-errors.js'
import { getCompiledPolicy } from './compile-policy.js'
import {
  type CompiledPolicy,
  type CompiledRule,
  EMPTY_AUDIT,
  EvalContext,
  type RuleBucket,
} from './compiled-policy.js'
import { describeCaller, describeOperation } from './describe-request.js'
import { normalizeHttpPath } from './normalize-http-path.js'
import type { AuthorizationInput, Decision, Policy } from './types.js'

/**
 * Evaluates a loaded policy for one request. Synchronous and allocation-light: the policy was
 * compiled when it was loaded.
 *
 * Combining (Istio order, plus an explicit default):
 * 1. every AUDIT rule that matches is reported in `audit` (never changes the decision);
 * 2. the first DENY rule that matches denies;
 * 3. the first ALLOW rule that matches allows;
 * 4. otherwise deny when an ALLOW rule *targets* the operation (its `to` matches), else
 *    `defaultAction` (default `deny`). An HTTP path that is not in normal form is never allowed by
 *    the default.
 *
 * Conditions whose input is missing or unreliable (a caller whose ID does not match the identity
 * template, an unknown `self`, a path not in normal form) fail closed: they never hold in ALLOW
 * rules and always hold in DENY and AUDIT rules. Not-forms (`notPrincipals`, claim `notIn`, …) on
 * an attribute the caller does not have (no SPIFFE ID, no OIDC principal, no such claim) behave the
 * same way; positive forms simply do not match.
 *
 * @example
 * ```ts
 * const d = evaluatePolicy(policy, { caller, self, operation: { kind: 'http', method: 'GET', path: '/orders' } })
 * if (d.decision === 'deny') throw toAccessDeniedError(d)
 * ```
 */
export function evaluatePolicy(policy: Policy, input: AuthorizationInput): Decision {
  const compiled = getCompiledPolicy(policy, routingOf(input))
  if (!compiled) {
    throw new PolicyError(
      'ERR_POLICY_INVALID',
      'not a loaded policy: use loadPolicy, loadPolicyFile or definePolicy',
    )
  }
  return evaluateCompiled(compiled, input)
}

const deny = (rule: string | null, reason: string, audit: readonly string[]): Decision => ({
  decision: 'deny',
  rule,
  reason,
  audit,
})

/** Match levels: 0 = `to` did not match, 1 = `to` matched but something else did not, 2 = match. */
function run(rule: CompiledRule, ctx: EvalContext): 0 | 1 | 2 {
  if (rule.to !== null && !rule.to(ctx)) return 0
  if (rule.from !== null && !rule.from(ctx)) return 1
  const checks = rule.checks
  for (let i = 0; i < checks.length; i++) if (!checks[i]!.test(ctx)) return 1
  return 2
}

/**
 * The router's routing of an HTTP operation (`undefined`: exact), which selects the compiled form.
 * @internal
 */
export function routingOf(input: AuthorizationInput): HttpRouting | undefined {
  const op = input?.operation
  return op?.kind === 'http' ? op.routing : undefined
}

// A route template with any of these is parametric (Express, Fastify and path-to-regexp syntax).
const PARAMETRIC = /[:*(){}?+]/
const MAX_ROUTES = 1024
const routeViews = new WeakMap<CompiledPolicy, Map<string, string | null>>()

/** The canonical form of a route template without parameters (the handler's own path), memoized. */
function routeView(policy: CompiledPolicy, route: unknown): string | undefined {
  if (typeof route !== 'string') return undefined
  let views = routeViews.get(policy)
  if (views === undefined) {
    views = new Map()
    routeViews.set(policy, views)
  }
  let view = views.get(route)
  if (view === undefined) {
    const n = PARAMETRIC.test(route) ? undefined : normalizeHttpPath(route, policy.routing)
    view = n?.normal ? n.path : null
    if (views.size >= MAX_ROUTES) views.clear()
    views.set(route, view)
  }
  return view ?? undefined
}

/**
 * The hot path, shared with `createPolicyAuthorizer`. `policy` must be compiled for the operation's
 * routing (`getCompiledPolicy(policy, routingOf(input))`).
 * @internal
 */
export function evaluateCompiled(policy: CompiledPolicy, input: AuthorizationInput): Decision {
  const caller = input?.caller
  const op = input?.operation
  if (!caller || typeof caller !== 'object' || !op || typeof op !== 'object') {
    return deny(null, 'no caller or operation to authorize: default deny', EMPTY_AUDIT)
  }
  const spiffeId = caller.spiffeId
  let ctx: EvalContext
  let bucket: RuleBucket
  if (op.kind === 'http') {
    const method = typeof op.method === 'string' ? op.method.toUpperCase() : ''
    const n = normalizeHttpPath(op.path, policy.routing)
    ctx = new EvalContext(
      caller,
      spiffeId?.toString(),
      spiffeId?.trustDomain.name,
      'http',
      method,
      n.path,
      n.normal,
      n.problem,
      input.self,
      routeView(policy, op.route),
    )
    bucket = policy.http.get(method) ?? policy.httpOther
  } else if (op.kind === 'grpc') {
    ctx = new EvalContext(
      caller,
      spiffeId?.toString(),
      spiffeId?.trustDomain.name,
      'grpc',
      typeof op.method === 'string' ? op.method : '',
      '',
      true,
      undefined,
      input.self,
      undefined,
    )
    bucket = policy.grpc
  } else if (op.kind === 'connection') {
    // A TLS handshake: only rules without `to` apply.
    ctx = new EvalContext(
      caller,
      spiffeId?.toString(),
      spiffeId?.trustDomain.name,
      'connection',
      '',
      '',
      true,
      undefined,
      input.self,
      undefined,
    )
    bucket = policy.connection
  } else {
    return deny(null, 'unsupported operation kind: default deny', EMPTY_AUDIT)
  }

  let audit: string[] | null = null
  const audits = bucket.audit
  for (let i = 0; i < audits.length; i++) {
    const r = audits[i]!
    if (run(r, ctx) === 2) {
      if (audit === null) audit = []
      audit.push(r.id)
    }
  }
  const denies = bucket.deny
  for (let i = 0; i < denies.length; i++) {
    const r = denies[i]!
    if (run(r, ctx) === 2)
      return deny(r.id, `denied by rule "${r.id}": ${explainMatch(r, ctx)}`, audit ?? EMPTY_AUDIT)
  }
  let targeted = false
  const allows = bucket.allow
  for (let i = 0; i < allows.length; i++) {
    const r = allows[i]!
    const m = run(r, ctx)
    if (m === 2) return audit === null ? r.allowDecision : { ...r.allowDecision, audit }
    if (m === 1) targeted = true
  }
  return fallback(policy, bucket, ctx, targeted, audit ?? EMPTY_AUDIT)
}

/** Why a DENY rule matched: its boundary, claim and scope conditions, else who did what. */
function explainMatch(rule: CompiledRule, ctx: EvalContext): string {
  if (rule.checks.length === 0) return `caller ${describeCaller(ctx.caller)}, ${describeOperation(ctx)}`
  return rule.checks.map((c) => c.explain(ctx, true)).join('; ')
}

/** Why an ALLOW rule that targets the operation did not match. */
function explainMiss(rule: CompiledRule, ctx: EvalContext): string {
  if (rule.from !== null && !rule.from(ctx)) {
    return `caller ${describeCaller(ctx.caller)} is not among its sources`
  }
  for (const c of rule.checks) if (!c.test(ctx)) return c.explain(ctx, false)
  return 'no condition failed'
}

/** The slow path: no DENY or ALLOW rule matched. */
function fallback(
  policy: CompiledPolicy,
  bucket: RuleBucket,
  ctx: EvalContext,
  targeted: boolean,
  audit: readonly string[],
): Decision {
  const what = `${describeOperation(ctx)} for ${describeCaller(ctx.caller)}`
  if (!ctx.pathNormal) {
    return deny(
      null,
      `no rule allowed ${what}: default deny (${ctx.pathProblem ?? 'path is not in normal form'})`,
      audit,
    )
  }
  if (!targeted) {
    if (policy.defaultAction === 'allow') {
      return {
        decision: 'allow',
        rule: null,
        reason: `no rule targets ${describeOperation(ctx)}: default allow`,
        audit,
      }
    }
    return deny(null, `no rule allowed ${what}: default deny (no rule targets this operation)`, audit)
  }
  // Closest miss: prefer an ALLOW rule that failed on scopes alone (→ ERR_SCOPE_MISSING).
  let first: CompiledRule | undefined
  for (const r of bucket.allow) {
    if (r.to !== null && !r.to(ctx)) continue
    first ??= r
    if (r.from !== null && !r.from(ctx)) continue
    const failing = r.checks.filter((c) => !c.test(ctx))
    if (failing.length > 0 && failing.every((c) => c.kind === 'scopes')) {
      const scopeCheck = failing[0]!
      return {
        decision: 'deny',
        rule: null,
        reason: `no rule allowed ${what}: default deny (closest rule "${r.id}": ${scopeCheck.explain(ctx, false)})`,
        audit,
        requiredScopes: scopeCheck.requiredScopes ?? [],
      }
    }
  }
  const detail = first ? ` (closest rule "${first.id}": ${explainMiss(first, ctx)})` : ''
  return deny(null, `no rule allowed ${what}: default deny${detail}`, audit)
}
