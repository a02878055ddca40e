// The state one policy compilation shares between its parts (sources, operations, boundaries,
// claims, reachability): the document, where problems go, the router's routing, and the identity
// templates.
import type { HttpRouting } from '../caller/http-routing.js'
import type { IdentityReader, Test } from './compiled-policy.js'
import type { ProblemList } from './policy-problems.js'
import type { PolicyDocument, PolicyRuleSummary } from './types.js'

/** One compilation in progress. */
export interface PolicyCompiler {
  readonly doc: PolicyDocument
  readonly problems: ProblemList
  readonly routing: HttpRouting
  readonly summaries: PolicyRuleSummary[]
  /** Set by compileIdentity, read by boundary conditions. */
  identity: IdentityReader
}

/** Any of the tests holds. */
export const or = (tests: readonly Test[]): Test => {
  if (tests.length === 1) return tests[0]!
  return (ctx) => {
    for (const t of tests) if (t(ctx)) return true
    return false
  }
}

/** Every test holds. */
export const and = (tests: readonly Test[]): Test => {
  if (tests.length === 1) return tests[0]!
  return (ctx) => {
    for (const t of tests) if (!t(ctx)) return false
    return true
  }
}
