import type { ClaimCondition, Policy, PolicyDocument } from './types.js'

/**
 * The claim paths a policy's `when` conditions read, each once, in rule order: what an auditor must
 * record (`createAuditor({ claims })`) for a replay to decide those conditions again.
 *
 * @example
 * ```ts
 * const policy = loadPolicyFile('policy.yaml')
 * policyClaimPaths(policy) // ['azp', ['realm_access', 'roles']]
 * const audit = { sink: jsonLinesSink('audit.jsonl'), claims: policyClaimPaths(policy) }
 * ```
 */
export function policyClaimPaths(policy: Policy | PolicyDocument): readonly ClaimCondition['claim'][] {
  const doc: PolicyDocument = 'document' in policy ? policy.document : policy
  const seen = new Set<string>()
  const out: ClaimCondition['claim'][] = []
  for (const rule of doc.rules ?? []) {
    for (const cond of rule.when ?? []) {
      const path = typeof cond.claim === 'string' ? [cond.claim] : [...cond.claim]
      const key = JSON.stringify(path)
      if (seen.has(key)) continue
      seen.add(key)
      out.push(typeof cond.claim === 'string' ? cond.claim : Object.freeze(path))
    }
  }
  return Object.freeze(out)
}
