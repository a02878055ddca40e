// `scopes` and `when`: conditions on the verified token (scopes, claims).
import type { Caller } from '../caller/caller.js'
import type { Check, EvalContext, Test } from './compiled-policy.js'
import { list } from './describe-request.js'
import type { PolicyCompiler } from './policy-compiler.js'
import type { JsonPath } from './policy-problems.js'

const CLAIM_OPS = ['equals', 'notEquals', 'in', 'notIn'] as const

export function compileScopes(
  cx: PolicyCompiler,
  spec: Record<string, readonly string[] | undefined>,
  path: JsonPath,
): Check | undefined {
  const { allOf, anyOf } = spec
  if ((allOf === undefined) === (anyOf === undefined)) {
    cx.problems.error('invalid', path, 'needs exactly one of "allOf" or "anyOf"')
    return undefined
  }
  const required = (allOf ?? anyOf)!
  const key = allOf ? 'allOf' : 'anyOf'
  required.forEach((s, i) => {
    if (/\s/.test(s))
      cx.problems.error('invalid', [...path, key, i], `scope "${s}" cannot contain whitespace`)
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

export function compileClaim(
  cx: PolicyCompiler,
  cond: Record<string, unknown>,
  path: JsonPath,
  lenient: boolean,
): Check | undefined {
  const ops = CLAIM_OPS.filter((o) => cond[o] !== undefined)
  if (ops.length !== 1) {
    cx.problems.error('invalid', path, `needs "claim" and exactly one of ${CLAIM_OPS.join(', ')}`)
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
