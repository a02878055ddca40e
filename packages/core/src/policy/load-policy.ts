import { compileOrThrow } from './compile-policy.js'
import { parsePolicyText } from './parse-policy-text.js'
import { ProblemList, policyError } from './policy-problems.js'
import type { LoadPolicyOptions, Policy } from './types.js'

/**
 * Parses, validates and compiles a policy from YAML or JSON text. Unknown keys are errors (unlike
 * Istio, which ignores them). Throws `PolicyError` with code `ERR_POLICY_INVALID` whose message
 * names the JSON path and the position, e.g.
 * `policy: rules[2].from[0].principalz: unknown key, did you mean "principals"? (line 14, column 9)`,
 * and whose `details` carry `{ path, line, column, filename?, problems }`.
 *
 * @example
 * ```ts
 * import { loadPolicy, createPolicyAuthorizer } from '@svidkit/core/policy'
 * const policy = loadPolicy(`
 * rules:
 *   - id: orders-read
 *     from: [{ principals: ['spiffe://example.org/ns/shop/sa/web'] }]
 *     to: [{ methods: [GET], paths: ['/orders/{*}'] }]
 * `)
 * const authorizer = createPolicyAuthorizer(policy)
 * ```
 */
export function loadPolicy(text: string, options: LoadPolicyOptions = {}): Policy {
  const problems = new ProblemList(undefined, options.filename)
  const parsed = parsePolicyText(text, problems)
  if (!parsed) throw policyError(problems.sorted(), options.filename)
  const located = new ProblemList(parsed.locate, options.filename)
  return compileOrThrow(parsed.value, located, options.filename)
}
