// The decision fast path changes no outcome: random policies, callers, selves and operations, decided
// with the per-caller cache and without it, must agree on every request, in any order and with
// repeats (a DENY is remembered like an ALLOW, never skipped).
import { type HttpOperation, httpRouting } from '@svidkit/core/caller'
import {
  type AuthorizationInput,
  callerFromId,
  createPolicyAuthorizer,
  definePolicy,
  evaluatePolicy,
  type PolicyRule,
} from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'

const IDS = [
  'spiffe://example.org/tenant/acme/ns/shop/sa/web',
  'spiffe://example.org/tenant/acme/ns/shop/sa/admin',
  'spiffe://example.org/tenant/globex/ns/shop/sa/web',
  'spiffe://partner.org/billing',
]
const SELVES = [
  'spiffe://example.org/tenant/acme/ns/shop/sa/orders',
  'spiffe://example.org/tenant/globex/ns/shop/sa/orders',
]
const PATHS = [
  '/orders',
  '/orders/1',
  '/orders/export',
  '/ORDERS/Export/',
  '/admin/x',
  '/orders/%65xport',
  '/a/../admin',
  '//orders',
]
const METHODS = ['GET', 'HEAD', 'POST', 'DELETE']
const ROUTINGS = [
  undefined,
  httpRouting(),
  httpRouting({ caseSensitive: false, strictTrailingSlash: false }),
  httpRouting({ mergeSlashes: true, headAsGet: false }),
]

const rule = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', 'b', 'c', 'd') }),
    action: fc.constantFrom('ALLOW', 'DENY', 'AUDIT'),
    from: fc.option(
      fc.constantFrom(
        [{ principals: ['spiffe://example.org/tenant/{*}/ns/shop/sa/web'] }],
        [{ trustDomains: ['example.org'] }],
        [{ notPrincipals: [IDS[1]!] }],
        [{ channels: ['jwt'] }],
      ),
      { nil: undefined },
    ),
    to: fc.option(
      fc.constantFrom(
        [{ methods: ['GET'], paths: ['/orders', '/orders/{*}'] }],
        [{ paths: ['/orders/export'] }],
        [{ notPaths: ['/orders/{**}'] }],
        [{ methods: ['POST'], paths: ['/orders'] }],
        [{ grpcMethods: ['/orders.v1.Orders/*'] }],
      ),
      { nil: undefined },
    ),
    scopes: fc.option(fc.constantFrom({ allOf: ['orders:write'] }, { anyOf: ['a', 'orders:read'] }), {
      nil: undefined,
    }),
    boundary: fc.option(fc.constantFrom({ tenant: { sameAs: 'self' } }, { tenant: { notSameAs: 'self' } }), {
      nil: undefined,
    }),
  },
  { requiredKeys: ['id', 'action'] },
)

const policyArb = fc
  .record({
    defaultAction: fc.constantFrom('allow', 'deny'),
    rules: fc.uniqueArray(rule, { maxLength: 6, selector: (r) => r.id }),
  })
  .map((doc) =>
    definePolicy({
      identity: { template: '/tenant/{tenant}/ns/{namespace}/sa/{serviceAccount}' },
      defaultAction: doc.defaultAction as 'allow' | 'deny',
      rules: doc.rules.map(
        (r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as PolicyRule,
      ),
    }),
  )

// A small pool of caller objects, reused across requests as the pipeline reuses them.
const callers = IDS.flatMap((id) => [
  callerFromId(id),
  callerFromId(id, { channel: 'jwt', scopes: ['orders:write'] }),
  callerFromId(id, { channel: 'jwt', scopes: ['orders:read'] }),
])
const selves = SELVES.map((s) => SpiffeId.parse(s))

const requestArb = fc.record({
  caller: fc.nat(callers.length - 1),
  self: fc.nat(selves.length),
  grpc: fc.boolean(),
  method: fc.constantFrom(...METHODS),
  path: fc.constantFrom(...PATHS),
  route: fc.option(fc.constantFrom('/orders/export', '/orders/:id', '/admin/:x'), { nil: undefined }),
  routing: fc.nat(ROUTINGS.length - 1),
})

function inputOf(r: fc.ValueOf<typeof requestArb>): AuthorizationInput {
  const operation = r.grpc
    ? ({
        kind: 'grpc',
        method: r.path.includes('admin') ? '/admin.v1.Admin/Get' : '/orders.v1.Orders/Get',
      } as const)
    : ({
        kind: 'http',
        method: r.method,
        path: r.path,
        route: r.route,
        routing: ROUTINGS[r.routing],
      } satisfies HttpOperation)
  return { caller: callers[r.caller]!, self: selves[r.self], operation }
}

describe('the decision cache agrees with the uncached engine', () => {
  test('on every request of random policies and request streams (with repeats)', () => {
    fc.assert(
      fc.property(policyArb, fc.array(requestArb, { minLength: 1, maxLength: 60 }), (policy, requests) => {
        const cached = createPolicyAuthorizer(policy)
        const plain = createPolicyAuthorizer(policy, { cache: false })
        // Every request under every routing (the same path can mean another route), and the whole
        // stream twice: the second pass is all cache hits.
        const stream = requests.flatMap((r) => ROUTINGS.map((_, routing) => ({ ...r, routing })))
        for (const r of [...stream, ...stream]) {
          const input = inputOf(r)
          const want = evaluatePolicy(policy, input)
          expect(cached.authorize(input)).toEqual(want)
          expect(plain.authorize(input)).toEqual(want)
        }
      }),
      { numRuns: 200 },
    )
  })

  test('a cached decision is the same frozen object on a repeat, DENY included', () => {
    const a = createPolicyAuthorizer(
      definePolicy({
        rules: [
          { id: 'no', action: 'DENY', to: [{ paths: ['/x'] }] },
          { id: 'all', from: [{ trustDomains: ['example.org'] }] },
        ],
      }),
    )
    const input: AuthorizationInput = {
      caller: callers[0]!,
      self: undefined,
      operation: { kind: 'http', method: 'GET', path: '/x' },
    }
    const first = a.authorize(input)
    expect(first).toMatchObject({ decision: 'deny', rule: 'no' })
    expect(a.authorize(input)).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
    // Another caller object with the same ID is decided on its own.
    expect(a.authorize({ ...input, caller: callerFromId(IDS[0]!) })).not.toBe(first)
  })

  test('a policy that reads claims is never cached; cache: false turns it off', () => {
    const withClaims = definePolicy({ rules: [{ id: 'azp', when: [{ claim: 'azp', equals: 'portal' }] }] })
    const a = createPolicyAuthorizer(withClaims)
    const input: AuthorizationInput = {
      caller: callerFromId(IDS[0]!, { channel: 'jwt', claims: { azp: 'other' } }),
      self: undefined,
      operation: { kind: 'grpc', method: '/a.B/C' },
    }
    // A default deny is a new object each time it is evaluated (an allow reuses its rule's).
    expect(a.authorize(input)).toMatchObject({ decision: 'deny' })
    expect(a.authorize(input)).not.toBe(a.authorize(input))
    expect(() => createPolicyAuthorizer(withClaims, { cache: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})
