// Lint: rules that can never decide (after a conditionless DENY or ALLOW, or duplicates of an earlier
// rule).
import type { PolicyCompiler } from './policy-compiler.js'
import type { PolicyRule } from './types.js'

export function lintReachability(cx: PolicyCompiler): void {
  const rules = cx.doc.rules
  const ids = cx.summaries
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
      cx.problems.warn(
        'unreachable-rule',
        ['rules', i],
        `rule "${id}" is unreachable: DENY rule "${ids[denyAll]?.id}" denies every request`,
        { rule: id },
      )
      continue
    }
    if (action === 'ALLOW' && allowAll !== -1) {
      cx.problems.warn(
        'unreachable-rule',
        ['rules', i],
        `rule "${id}" is unreachable: rule "${ids[allowAll]?.id}" before it allows every request`,
        { rule: id },
      )
      continue
    }
    const dup = canonical.indexOf(canonical[i]!)
    if (dup < i) {
      cx.problems.warn(
        'unreachable-rule',
        ['rules', i],
        `rule "${id}" is unreachable: it has the same action and conditions as rule "${ids[dup]?.id}"`,
        { rule: id },
      )
    }
    if (action === 'ALLOW' && conditionless(r) && allowAll === -1) allowAll = i
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
