// Micro-benchmark: the per-decision cost of the built-in policy engine on a ten-rule policy, for five
// typical inputs (allow, a boundary DENY, a {**} template, gRPC, a scope check). Moved here from the
// unit tests: timings belong in bench/, never in tests.
//
//   node scripts/build.mjs && node bench/micro/policy.mjs

import { callerFromId, createPolicyAuthorizer, loadPolicy } from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { bench, do_not_optimize, run } from 'mitata'

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
const cases = [
  [
    'allow GET',
    { caller: web, self, operation: { kind: 'http', method: 'GET', path: '/orders/42' } },
    'allow',
  ],
  [
    'deny cross-tenant',
    {
      caller: callerFromId('spiffe://example.org/tenant/globex/env/prod/web'),
      self,
      operation: { kind: 'http', method: 'GET', path: '/orders/42' },
    },
    'deny',
  ],
  [
    'allow {**}',
    { caller: web, self, operation: { kind: 'http', method: 'GET', path: '/items/a/b' } },
    'allow',
  ],
  [
    'allow gRPC',
    { caller: web, self, operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' } },
    'allow',
  ],
  [
    'allow PUT+scope',
    {
      caller: callerFromId('spiffe://example.org/tenant/acme/env/prod/api', {
        channel: 'jwt',
        scopes: ['orders:write'],
      }),
      self,
      operation: { kind: 'http', method: 'PUT', path: '/orders/42' },
    },
    'allow',
  ],
]

const authorizer = createPolicyAuthorizer(policy)
for (const [name, input, want] of cases) {
  const got = authorizer.authorize(input).decision
  if (got !== want) throw new Error(`${name}: expected ${want}, got ${got}`)
  bench(`policy, 10 rules: ${name}`, () => do_not_optimize(authorizer.authorize(input)))
}
await run()
