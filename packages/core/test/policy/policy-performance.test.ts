// Per-decision cost of the built-in engine on a ten-rule policy. The bound is loose on purpose
// (CI machines are shared); the measured figure is printed.
import {
  type AuthorizationInput,
  callerFromId,
  createPolicyAuthorizer,
  loadPolicy,
} from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { expect, test } from 'vitest'

const policy = loadPolicy(`
identity:
  template: /tenant/{tenant}/env/{env}/{service}
rules:
  - id: audit-admin
    action: AUDIT
    to: [{ paths: ['/admin/{**}'] }]
  - id: no-cross-tenant
    action: DENY
    from: [{ channels: [mtls, xfcc, jwt] }]
    boundary: { tenant: { notSameAs: self } }
  - id: block-legacy
    action: DENY
    from: [{ principals: ['spiffe://example.org/tenant/*'], notTrustDomains: [example.org] }]
  - id: orders-read
    from: [{ principals: ['spiffe://example.org/tenant/{*}/env/{*}/web'] }]
    to: [{ methods: [GET], paths: ['/orders', '/orders/{*}'] }]
    boundary: { env: { in: [prod, staging] } }
  - id: orders-write
    from: [{ channels: [jwt] }]
    to: [{ methods: [POST, PUT], paths: ['/orders/{*}'] }]
    scopes: { allOf: ['orders:write'] }
  - id: items
    from: [{ trustDomains: [example.org] }]
    to: [{ methods: [GET], paths: ['/items/{**}'] }]
  - id: admin
    from: [{ principals: ['spiffe://example.org/tenant/acme/env/prod/admin'] }]
    to: [{ paths: ['/admin/{**}'] }]
  - id: portal
    from: [{ requestPrincipals: [{ iss: 'https://login.example.com', sub: '*' }] }]
    to: [{ methods: [GET], paths: ['/portal/*'] }]
    when: [{ claim: azp, in: [portal] }]
  - id: grpc-get
    from: [{ trustDomains: [example.org] }]
    to: [{ grpcMethods: ['/orders.v1.Orders/Get', '/orders.v1.Orders/List'] }]
  - id: health
    to: [{ methods: [GET], paths: ['/healthz'] }]
`)

const self = SpiffeId.parse('spiffe://example.org/tenant/acme/env/prod/orders')
const web = callerFromId('spiffe://example.org/tenant/acme/env/prod/web')
const inputs: AuthorizationInput[] = [
  { caller: web, self, operation: { kind: 'http', method: 'GET', path: '/orders/42' } },
  {
    caller: callerFromId('spiffe://example.org/tenant/globex/env/prod/web'),
    self,
    operation: { kind: 'http', method: 'GET', path: '/orders/42' },
  },
  { caller: web, self, operation: { kind: 'http', method: 'GET', path: '/items/a/b' } },
  { caller: web, self, operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' } },
  {
    caller: callerFromId('spiffe://example.org/tenant/acme/env/prod/api', {
      channel: 'jwt',
      scopes: ['orders:write'],
    }),
    self,
    operation: { kind: 'http', method: 'PUT', path: '/orders/42' },
  },
]

function measure(input: AuthorizationInput, n: number): number {
  const a = createPolicyAuthorizer(policy)
  for (let i = 0; i < 20_000; i++) a.authorize(input)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) a.authorize(input)
  return Number(process.hrtime.bigint() - t0) / n / 1000
}

test('a ten-rule policy decides in microseconds', () => {
  const a = createPolicyAuthorizer(policy)
  expect(inputs.map((i) => a.authorize(i).decision)).toEqual(['allow', 'deny', 'allow', 'allow', 'allow'])
  const results = inputs.map((i) => measure(i, 100_000))
  const allowGet = results[0]!
  console.log(
    `policy engine, 10 rules, µs/decision: ${[
      'allow GET',
      'deny cross-tenant',
      'allow {**}',
      'allow gRPC',
      'allow PUT+scope',
    ]
      .map((name, i) => `${name} ${results[i]!.toFixed(2)}`)
      .join(', ')}`,
  )
  expect(allowGet).toBeLessThan(25)
})
