import { compilePolicyValue } from './compile-policy.js'
import { parsePolicyText } from './parse-policy-text.js'
import { ProblemList } from './policy-problems.js'
import type { LoadPolicyOptions, PolicyProblem } from './types.js'

/**
 * Checks a YAML or JSON policy and returns every problem, sorted by position: the errors
 * {@link loadPolicy} would throw (all of them, not just the first) and warnings:
 *
 * - `unreachable-rule`: an ALLOW rule after a conditionless ALLOW, any ALLOW when a conditionless
 *   DENY exists, or a rule with the same action and conditions as an earlier one;
 * - `deny-without-conditions`: a DENY rule that denies every request;
 * - `allow-without-from`: an ALLOW rule with neither `from` nor `boundary`;
 * - `never-matches`: a source mixing SPIFFE-only and OIDC-only fields;
 * - `prefix-not-segment`: a principal prefix that does not stop at a `/`;
 * - `default-allow`, `no-rules`.
 *
 * An empty list means the policy is clean. This is what `svidkit policy lint` prints.
 *
 * @example
 * ```ts
 * for (const p of lintPolicy(readFileSync('policy.yaml', 'utf8'), { filename: 'policy.yaml' })) {
 *   console.log(`${p.severity}: ${p.message}`)
 * }
 * ```
 */
export function lintPolicy(text: string, options: LoadPolicyOptions = {}): PolicyProblem[] {
  const syntax = new ProblemList(undefined, options.filename)
  const parsed = parsePolicyText(text, syntax)
  if (!parsed) return syntax.sorted()
  const problems = new ProblemList(parsed.locate, options.filename)
  compilePolicyValue(parsed.value, problems, options.filename)
  return problems.sorted()
}
