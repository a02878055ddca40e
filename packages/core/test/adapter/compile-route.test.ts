import { compileRoute, type RouteRequirement, routeModeOf, validateRoute } from '@svidkit/core/adapter'
import { callerFromId, createCallerVerifier } from '@svidkit/core/caller'
import { OptionsError } from '@svidkit/core/errors'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { TestCA } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'

const op = { kind: 'http', method: 'GET', path: '/orders' } as const
const self = SpiffeId.parse('spiffe://example.org/tenant/acme/api')
let ca: TestCA
const plain = { identityTemplates: [] as readonly string[] }

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
})

describe('routeModeOf', () => {
  test("an adapter's defaultMode: required when absent, the three modes as given, anything else refused", () => {
    expect(routeModeOf(undefined)).toBe('required')
    for (const mode of ['required', 'optional', 'none'] as const) expect(routeModeOf(mode)).toBe(mode)
    for (const bad of ['sometimes', 'Required', '', null, 1, {}]) {
      const err = (() => {
        try {
          routeModeOf(bad, '@svidkit/x')
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(OptionsError)
      expect((err as OptionsError).code).toBe('ERR_OPTIONS_INVALID')
      expect((err as Error).message).toBe(
        'options: @svidkit/x: defaultMode must be "required", "optional" or "none"',
      )
    }
  })

  test('compileRoute refuses a bad defaultMode too', () => {
    expect(() => compileRoute(undefined, plain, { defaultMode: 'sometimes' as never, what: 'r' })).toThrow(
      'r: defaultMode must be',
    )
  })
})

describe('compileRoute: modes', () => {
  test('default, public, optional, and conditions needing a caller', () => {
    expect(compileRoute(undefined, plain, { defaultMode: 'optional' })).toEqual({
      mode: 'optional',
      requirement: undefined,
      verify: { optional: true },
    })
    expect(compileRoute(undefined, plain).mode).toBe('required')
    expect(compileRoute({ public: true }, plain).mode).toBe('none')
    expect(compileRoute({ optional: true }, plain).mode).toBe('optional')
    const scoped = compileRoute({ scopes: ['a'] }, plain, { defaultMode: 'optional' })
    expect(scoped.mode).toBe('required')
    expect(scoped.verify.requirement).toBe(scoped.requirement)
    expect(scoped.requirement).toBeDefined()
    expect(compileRoute({ optional: true, scopes: ['a'] }, plain).mode).toBe('optional')
    expect(compileRoute({}, plain, { defaultMode: 'none' }).mode).toBe('none')
    expect(compileRoute({ optional: false }, plain, { defaultMode: 'none' }).mode).toBe('required')
  })

  test.each([
    [{ public: true, optional: true }, 'both public and optional'],
    [{ public: true, scopes: ['a'] }, 'public route cannot also have conditions'],
    [{ public: 'yes' }, '"public" must be a boolean'],
    [{ callerz: [] }, 'unknown key "callerz"'],
    [null, 'must be an object'],
    [{ scopes: 'orders:read' }, 'scopes'],
    [{ callers: 'spiffe://example.org/web' }, 'callers'],
    [{ boundary: { tenant: { sameAs: 'me' } } }, 'boundary'],
    [{ channels: ['carrier-pigeon'] }, 'channels'],
  ])('%j is an options error naming the route (%s)', (spec, fragment) => {
    let thrown: unknown
    try {
      compileRoute(spec as RouteRequirement, plain, { what: 'config.svid' })
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(OptionsError)
    expect(thrown).toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
      message: expect.stringMatching(/^options: config\.svid: /),
    })
    expect((thrown as Error).message).toContain(fragment)
  })
})

describe('compileRoute: conditions mean what a policy rule means', () => {
  test('allows what it requires and reports its own id on a refusal', () => {
    const { requirement } = compileRoute({ id: 'admins', callers: ['spiffe://example.org/admin'] }, plain)
    expect(
      requirement!.authorize({ caller: callerFromId('spiffe://example.org/admin'), self, operation: op }),
    ).toMatchObject({ decision: 'allow' })
    expect(
      requirement!.authorize({ caller: callerFromId('spiffe://example.org/web'), self, operation: op }),
    ).toMatchObject({ decision: 'deny', rule: 'admins' })
  })

  test("boundaries use the verifier's identity templates", () => {
    const verifier = createCallerVerifier({
      bundles: ca.bundleSet(),
      identityTemplates: ['/tenant/{tenant}/{service}'],
      audit: false,
    })
    const { requirement } = compileRoute({ boundary: { tenant: { sameAs: 'self' } } }, verifier)
    const decide = (id: string) => requirement!.authorize({ caller: callerFromId(id), self, operation: op })
    expect(decide('spiffe://example.org/tenant/acme/web')).toMatchObject({ decision: 'allow' })
    expect(decide('spiffe://example.org/tenant/globex/web')).toMatchObject({
      decision: 'deny',
      rule: 'route',
    })
    // A key the templates do not capture is an options error when the route is compiled.
    expect(() => compileRoute({ boundary: { region: { sameAs: 'self' } } }, verifier)).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})

describe('validateRoute: before the verifier is known', () => {
  test('accepts boundary keys whose templates come later', () => {
    expect(() =>
      validateRoute({ boundary: { tenant: { sameAs: 'self' }, env: { in: ['prod'] } } }),
    ).not.toThrow()
    expect(() => validateRoute({ boundary: { trustDomain: { equals: 'example.org' } } })).not.toThrow()
    expect(() =>
      validateRoute({ callers: ['spiffe://example.org/ns/{*}/sa/web'], scopes: { anyOf: ['a'] } }),
    ).not.toThrow()
  })

  test.each([
    null,
    { callerz: [] },
    { scopes: 'orders:read' },
    { boundary: { tenant: { sameAs: 'me' } } },
    { boundary: { 'ten-ant': { sameAs: 'self' } } },
    { boundary: { tenant: { equals: 'a', in: ['b'] } } },
    { trustDomains: ['not a domain!'] },
  ])('refuses %j', (spec) => {
    expect(() => validateRoute(spec as RouteRequirement, 'requireCaller()')).toThrow(
      expect.objectContaining({
        code: 'ERR_OPTIONS_INVALID',
        message: expect.stringContaining('requireCaller(): '),
      }),
    )
  })
})
