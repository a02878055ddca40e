// The same decision table, run through the built-in engine and through the Cedar adapter.
import { type Authorizer, createPolicyAuthorizer, loadPolicy } from '@svidkit/core/policy'
import { createCedarAuthorizer } from '@svidkit/core/policy/cedar'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { describe, expect, test } from 'vitest'
import { allSuites, type DecisionSuite } from './fixtures/cases.js'

const shared = allSuites.filter((s): s is DecisionSuite & { cedar: string } => s.cedar !== undefined)

const engines: readonly [string, (s: DecisionSuite & { cedar: string }) => Authorizer][] = [
  ['policy engine', (s) => createPolicyAuthorizer(loadPolicy(s.yaml))],
  [
    'cedar',
    (s) => createCedarAuthorizer({ policies: s.cedar, ...(s.identity ? { identity: s.identity } : {}) }),
  ],
]

describe.each(engines)('%s', (_engine, make) => {
  describe.each(shared.map((s) => [s.name, s] as const))('%s', (_name, suite) => {
    const authorizer = make(suite)
    test.each(suite.cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
      const self = c.self === null ? undefined : (c.self ?? suite.self)
      const d = await authorizer.authorize({
        caller: c.caller,
        self: self === undefined ? undefined : SpiffeId.parse(self),
        operation: c.op,
      })
      expect({ decision: d.decision, rule: d.rule }).toEqual({ decision: c.decision, rule: c.rule })
    })
  })
})

test('the shared subset is not empty', () => {
  expect(shared.reduce((n, s) => n + s.cases.length, 0)).toBeGreaterThanOrEqual(15)
})
