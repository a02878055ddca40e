import { compileMethods } from '@svidkit/core/adapter'
import { OptionsError } from '@svidkit/core/errors'
import { describe, expect, test } from 'vitest'

const plain = { identityTemplates: [] as readonly string[] }

describe('compileMethods', () => {
  test('the exact method wins over its service, and the default settles the rest', () => {
    const methods = compileMethods(
      {
        '/orders.v1.Orders/*': { callers: ['spiffe://example.org/admin'] },
        '/orders.v1.Orders/Get': { optional: true },
        '/grpc.health.v1.Health/*': { public: true },
      },
      plain,
      { defaultMode: 'optional' },
    )
    expect(methods.routeOf('/orders.v1.Orders/Get').mode).toBe('optional')
    const del = methods.routeOf('/orders.v1.Orders/Delete')
    expect(del.mode).toBe('required')
    expect(del.requirement).toBeDefined()
    expect(methods.routeOf('/grpc.health.v1.Health/Check').mode).toBe('none')
    expect(methods.routeOf('/billing.v1.Billing/Pay')).toEqual({
      mode: 'optional',
      requirement: undefined,
      verify: { optional: true },
    })
    // Resolved once: the same compiled route every time.
    expect(methods.routeOf('/orders.v1.Orders/Delete')).toBe(del)
  })

  test('no methods: every method gets the default mode (required unless said)', () => {
    expect(compileMethods(undefined, plain).routeOf('/a.B/C').mode).toBe('required')
    expect(compileMethods({}, plain, { defaultMode: 'none' }).routeOf('/a.B/C').mode).toBe('none')
  })

  test.each([
    [[], 'methods must be an object'],
    ['/a.B/C', 'methods must be an object'],
    [{ Get: {} }, '"Get" is not a full method'],
    [{ '/a.B/C/D': {} }, 'is not a full method'],
    [{ '/a.B/C*': {} }, 'is not a full method'],
    [{ '/*/C': {} }, 'is not a full method'],
    [{ '/a.B/C': { public: true, scopes: ['x'] } }, 'methods["/a.B/C"]'],
  ])('%j is an options error naming the adapter (%s)', (methods, fragment) => {
    let thrown: unknown
    try {
      compileMethods(methods as never, plain, { what: '@svidkit/grpc' })
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(OptionsError)
    expect(thrown).toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
      message: expect.stringMatching(/^options: @svidkit\/grpc: /),
    })
    expect((thrown as Error).message).toContain(fragment)
  })
})
