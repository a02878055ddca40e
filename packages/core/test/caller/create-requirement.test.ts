import { createRequirement, type RouteRequirement } from '@svidkit/core/caller'
import { OptionsError } from '@svidkit/core/errors'
import { callerFromId } from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { describe, expect, test } from 'vitest'

const op = { kind: 'http', method: 'GET', path: '/orders' } as const

describe('createRequirement', () => {
  test('allows what it requires and reports its own id on a refusal', () => {
    const r = createRequirement({ id: 'admins', callers: ['spiffe://example.org/admin'] })
    const self = SpiffeId.parse('spiffe://example.org/api')
    expect(
      r.authorize({ caller: callerFromId('spiffe://example.org/admin'), self, operation: op }),
    ).toMatchObject({
      decision: 'allow',
    })
    expect(
      r.authorize({ caller: callerFromId('spiffe://example.org/web'), self, operation: op }),
    ).toMatchObject({
      decision: 'deny',
      rule: 'admins',
    })
  })

  test('an invalid requirement is an options error (ERR_OPTIONS_INVALID), thrown when it is created', () => {
    const bad: unknown[] = [
      null,
      { callerz: [] },
      { scopes: 'orders:read' },
      { callers: 'spiffe://example.org/web' },
      { boundary: { tenant: { sameAs: 'me' } } },
      { channels: ['carrier-pigeon'] },
    ]
    for (const spec of bad) {
      let thrown: unknown
      try {
        createRequirement(spec as RouteRequirement)
      } catch (err) {
        thrown = err
      }
      expect(thrown, JSON.stringify(spec)).toBeInstanceOf(OptionsError)
      expect(thrown).toMatchObject({
        code: 'ERR_OPTIONS_INVALID',
        message: expect.stringMatching(/^options: createRequirement: /),
      })
    }
  })

  test('policy paths are reported in the requirement own terms', () => {
    expect(() => createRequirement({ callers: 'x' as unknown as string[] })).toThrow(
      /createRequirement: callers/,
    )
  })
})
