// `boundary`: identity-template captures (and the trust domain) compared with a constant or with
// the service's own identity.

import { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { Check, EvalContext, Test } from './compiled-policy.js'
import { clip, describeCaller, list } from './describe-request.js'
import type { PolicyCompiler } from './policy-compiler.js'
import type { JsonPath } from './policy-problems.js'

const BOUNDARY_OPS = ['sameAs', 'notSameAs', 'equals', 'notEquals', 'in', 'notIn'] as const
type Op = (typeof BOUNDARY_OPS)[number]

export function compileBoundary(
  cx: PolicyCompiler,
  key: string,
  cond: Record<string, unknown>,
  path: JsonPath,
  lenient: boolean,
): Check | undefined {
  const ops = BOUNDARY_OPS.filter((o) => cond[o] !== undefined)
  if (ops.length !== 1) {
    cx.problems.error('invalid', path, `needs exactly one of ${BOUNDARY_OPS.join(', ')}`)
    return undefined
  }
  const op = ops[0]! as Op
  const isTd = key === 'trustDomain'
  if (!isTd) {
    if (!cx.doc.identity) {
      cx.problems.error(
        'invalid',
        path,
        `boundary "${key}" needs an identity template that captures it (identity.template), or use "trustDomain"`,
        { key: true },
      )
      return undefined
    }
    if (!cx.identity.captureNames.has(key)) {
      cx.problems.error(
        'invalid',
        path,
        `"${key}" is not captured by the identity template${cx.identity.templates.length > 1 ? 's' : ''} (captures: ${[...cx.identity.captureNames].join(', ') || 'none'})`,
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
        cx.problems.error(
          'invalid',
          Array.isArray(operand) ? [...path, op, i] : [...path, op],
          `"${n}" is not a valid trust domain name`,
        )
      }
    })
  }
  const identity = cx.identity
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
      return v === s ? `${cv} is the same as self ${label}` : `${cv} differs from self ${label} "${clip(s)}"`
    }
    if (op === 'equals') return v === constant ? `${cv} is "${constant}"` : `${cv} is not "${constant}"`
    if (op === 'notEquals') return v === constant ? `${cv} is "${constant}"` : `${cv} is not "${constant}"`
    const inSet = set!.has(v)
    return inSet ? `${cv} is one of ${list([...set!])}` : `${cv} is not one of ${list([...set!])}`
  }
  return { kind: 'boundary', test, explain }
}
