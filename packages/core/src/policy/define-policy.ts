import { compileOrThrow } from './compile-policy.js'
import { ProblemList } from './policy-problems.js'
import type { Policy, PolicyDocument } from './types.js'

/** A JSON copy without `undefined` members, so TS objects validate exactly like parsed files. */
function toJsonValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toJsonValue)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue
      // An own "__proto__" key (from JSON.parse) must stay a key, so validation rejects it,
      // instead of becoming the prototype and smuggling inherited values past the schema.
      Object.defineProperty(out, k, {
        value: toJsonValue(v),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return out
  }
  return value
}

/**
 * Validates and compiles a policy written in TypeScript, exactly as {@link loadPolicy} does for
 * files (same schema, same errors, without line/column). The document is copied, so later changes
 * to the object do not affect the policy.
 *
 * @example
 * ```ts
 * import { definePolicy } from '@svidkit/core/policy'
 * export const policy = definePolicy({
 *   identity: { template: '/tenant/{tenant}/env/{env}/{service}' },
 *   rules: [
 *     { id: 'no-cross-tenant', action: 'DENY', boundary: { tenant: { notSameAs: 'self' } } },
 *     { id: 'orders-read', from: [{ trustDomains: ['example.org'] }], to: [{ methods: ['GET'], paths: ['/orders/{**}'] }] },
 *   ],
 * })
 * ```
 */
export function definePolicy(document: PolicyDocument): Policy {
  return compileOrThrow(toJsonValue(document), new ProblemList(undefined, undefined), undefined)
}
