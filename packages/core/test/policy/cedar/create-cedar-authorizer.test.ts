import { createRequire } from 'node:module'
import { callerFromId } from '@svidkit/core/policy'
import { type CedarModule, createCedarAuthorizer } from '@svidkit/core/policy/cedar'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { describe, expect, test } from 'vitest'

const self = SpiffeId.parse('spiffe://example.org/svc/orders')
const get = { kind: 'http', method: 'GET', path: '/orders/1' } as const

describe('createCedarAuthorizer', () => {
  test('maps principal, action, resource and context', () => {
    const a = createCedarAuthorizer({
      policies: `
@id("jwt-with-scope")
permit (principal is Svidkit::Workload in Svidkit::TrustDomain::"example.org", action == Svidkit::Action::"GET", resource == Svidkit::Service::"spiffe://example.org/svc/orders")
when {
  principal.channel == "jwt" && principal.path == "/ns/web" && context.scopes.contains("orders:read") &&
  context.operation.kind == "http" && context.operation.path like "/orders/*" &&
  context.claims has azp && context.claims.azp == "portal" && resource.trustDomain == "example.org"
};
@id("grpc")
permit (principal, action == Svidkit::Action::"/orders.v1.Orders/Get", resource)
when { context.operation.kind == "grpc" };
@id("oidc")
permit (principal is Svidkit::OidcPrincipal, action, resource)
when { principal.iss == "https://login.example.com" && principal.sub == "alice" };
`,
    })
    const caller = callerFromId('spiffe://example.org/ns/web', {
      channel: 'jwt',
      scopes: ['orders:read'],
      claims: { azp: 'portal', exp: 1.5, n: null, __entity: { type: 'Admin', id: 'x' } },
    })
    expect(a.authorize({ caller, self, operation: get })).toEqual({
      decision: 'allow',
      rule: 'jwt-with-scope',
      reason: 'allowed by Cedar policy "jwt-with-scope"',
      audit: [],
    })
    expect(
      a.authorize({ caller, self, operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' } }).rule,
    ).toBe('grpc')
    expect(
      a.authorize({
        caller: callerFromId({ iss: 'https://login.example.com', sub: 'alice' }),
        self,
        operation: get,
      }).rule,
    ).toBe('oidc')
    const other = a.authorize({
      caller: callerFromId('spiffe://example.org/ns/web', { channel: 'mtls' }),
      self,
      operation: get,
    })
    expect(other).toMatchObject({ decision: 'deny', rule: null })
    expect(other.reason).toBe(
      'no Cedar policy permitted GET /orders/1 for spiffe://example.org/ns/web: default deny',
    )
  })

  test('an evaluation error in any policy fails closed', () => {
    const a = createCedarAuthorizer({
      policies: `
@id("allow-all") permit (principal, action, resource);
@id("needs-claim") forbid (principal, action, resource) when { context.claims.tenant == "blocked" };
`,
    })
    const d = a.authorize({ caller: callerFromId('spiffe://example.org/a'), self, operation: get })
    expect(d.decision).toBe('deny')
    expect(d.reason).toMatch(/^Cedar policy "needs-claim" failed to evaluate \(.+\); failing closed$/)
  })

  test('a missing self entity fails closed when a policy reads it', () => {
    const a = createCedarAuthorizer({
      policies:
        '@id("same-td") permit (principal, action, resource) when { principal.trustDomain == resource.trustDomain };',
    })
    const caller = callerFromId('spiffe://example.org/a')
    expect(a.authorize({ caller, self, operation: get }).decision).toBe('allow')
    expect(a.authorize({ caller, self: undefined, operation: get }).decision).toBe('deny')
  })

  test('paths that are not in normal form are denied before Cedar', () => {
    const a = createCedarAuthorizer({ policies: 'permit (principal, action, resource);' })
    const d = a.authorize({
      caller: callerFromId('spiffe://example.org/a'),
      self,
      operation: { kind: 'http', method: 'GET', path: '/a/../b' },
    })
    expect(d.decision).toBe('deny')
    expect(d.reason).toContain('"." or ".." segment')
    expect(a.authorize({ caller: callerFromId('spiffe://example.org/a'), self, operation: get }).rule).toBe(
      'policy0',
    )
  })

  test('extra entities put the principal into groups', () => {
    const a = createCedarAuthorizer({
      policies:
        '@id("admins") permit (principal in Svidkit::Group::"admins", action, resource) when { principal.team == "ops" };',
      entities: [
        {
          uid: { type: 'Svidkit::Workload', id: 'spiffe://example.org/admin' },
          attrs: { team: 'ops', id: 'spoofed' },
          parents: [{ type: 'Svidkit::Group', id: 'admins' }],
        },
        { uid: { type: 'Svidkit::Group', id: 'admins' }, attrs: {}, parents: [] },
      ],
    })
    expect(
      a.authorize({ caller: callerFromId('spiffe://example.org/admin'), self, operation: get }).rule,
    ).toBe('admins')
    expect(
      a.authorize({ caller: callerFromId('spiffe://example.org/a'), self, operation: get }).decision,
    ).toBe('deny')
  })

  test('invalid policy text is ERR_POLICY_INVALID with a position', () => {
    try {
      createCedarAuthorizer({
        policies:
          'permit (principal, action, resource);\npermit (principal, action, resource) when { context.x == };',
      })
      expect.unreachable()
    } catch (err) {
      expect(err).toMatchObject({ code: 'ERR_POLICY_INVALID', details: { engine: 'cedar', line: 2 } })
    }
    expect(() =>
      createCedarAuthorizer({
        policies:
          '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);',
      }),
    ).toThrow('duplicate Cedar policy id "a"')
    expect(() => createCedarAuthorizer({ policies: 42 as never })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })

  test('a preloaded module can be passed; without statefulIsAuthorized it falls back to isAuthorized', () => {
    const real = createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs') as CedarModule
    const calls: string[] = []
    const fake: CedarModule = {
      policySetTextToParts: (t) => real.policySetTextToParts(t),
      policyToJson: (p) => real.policyToJson(p),
      isAuthorized: (call) => {
        calls.push('isAuthorized')
        return real.isAuthorized(call)
      },
    }
    const a = createCedarAuthorizer({
      policies: '@id("p") permit (principal, action, resource);',
      cedar: fake,
    })
    expect(a.authorize({ caller: callerFromId('spiffe://example.org/a'), self, operation: get }).rule).toBe(
      'p',
    )
    expect(calls).toEqual(['isAuthorized'])
  })

  test('a Cedar exception is a deny', () => {
    const real = createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs') as CedarModule
    const a = createCedarAuthorizer({
      policies: 'permit (principal, action, resource);',
      cedar: {
        ...real,
        preparsePolicySet: undefined,
        isAuthorized: () => {
          throw new Error('wasm trap')
        },
      } as CedarModule,
    })
    expect(
      a.authorize({ caller: callerFromId('spiffe://example.org/a'), self, operation: get }),
    ).toMatchObject({
      decision: 'deny',
      reason: 'Cedar evaluation threw (wasm trap); failing closed',
    })
  })
})
