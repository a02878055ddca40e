import { definePolicy, policyClaimPaths } from '@svidkit/core/policy'
import { describe, expect, test } from 'vitest'

describe('policyClaimPaths', () => {
  test('every claim path of the when conditions, once, in rule order', () => {
    const policy = definePolicy({
      rules: [
        {
          id: 'a',
          when: [
            { claim: 'azp', equals: 'portal' },
            { claim: ['realm_access', 'roles'], in: ['admin'] },
          ],
        },
        { id: 'b', when: [{ claim: 'azp', notEquals: 'x' }] },
      ],
    })
    expect(policyClaimPaths(policy)).toEqual(['azp', ['realm_access', 'roles']])
    expect(
      policyClaimPaths({
        rules: [
          { when: [{ claim: ['a', 'b'], equals: 1 }] },
          {
            when: [
              { claim: ['a', 'b'], in: [2] },
              { claim: 'c', equals: true },
            ],
          },
        ],
      }),
    ).toEqual([['a', 'b'], 'c'])
    expect(policyClaimPaths({ rules: [{ id: 'x' }] })).toEqual([])
  })
})
