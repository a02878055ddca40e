import { createContextKey, createContextValues } from '@connectrpc/connect'
import { svidkitContextValues } from '@svidkit/connect'
import { describe, expect, test } from 'vitest'

describe('svidkitContextValues', () => {
  const request = { method: 'POST', url: '/svidkit.test.Echo/Unary', headers: {} }

  test('returns context values (new ones by default)', () => {
    const values = svidkitContextValues(request)
    expect(typeof values.get).toBe('function')
    expect(svidkitContextValues(request)).not.toBe(values)
  })

  test('adds to the context values given, keeping the application own', () => {
    const mine = createContextKey('none')
    const given = createContextValues().set(mine, 'acme')
    const values = svidkitContextValues(request, given)
    expect(values).toBe(given)
    expect(values.get(mine)).toBe('acme')
  })

  test('refuses what is not a request (ERR_OPTIONS_INVALID)', () => {
    for (const bad of [undefined, null, 'req', {}]) {
      expect(() => svidkitContextValues(bad as never)).toThrow(
        expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
      )
    }
  })
})
