// The three policy shapes of the routing table (routing-table.ts): the shapes under which a router
// and a policy that disagree about a path turn into a bypass.
import {
  createPolicyAuthorizer,
  definePolicy,
  type Policy,
  type PolicyAuthorizer,
} from '@svidkit/core/policy'
import { ADMIN } from './fixtures.js'

export interface PolicyShape {
  readonly name: string
  readonly policy: Policy
  authorizer(): PolicyAuthorizer
  /** Rows whose outcome does not depend on the router: [method, path, status] for the web caller. */
  readonly expectations: readonly (readonly [string, string, number])[]
}

const NO_EXPORT = {
  id: 'no-export',
  action: 'DENY',
  to: [{ methods: ['GET'], paths: ['/orders/export'] }],
} as const

function shape(name: string, policy: Policy, expectations: PolicyShape['expectations']): PolicyShape {
  return { name, policy, authorizer: () => createPolicyAuthorizer(policy), expectations }
}

export const POLICY_SHAPES: readonly PolicyShape[] = [
  shape(
    'default deny',
    definePolicy({
      rules: [
        NO_EXPORT,
        {
          id: 'read-orders',
          from: [{ trustDomains: ['example.org'] }],
          to: [{ methods: ['GET'], paths: ['/orders', '/orders/{*}'] }],
        },
        {
          id: 'place-orders',
          from: [{ trustDomains: ['example.org'] }],
          to: [{ methods: ['POST'], paths: ['/orders'] }],
          scopes: { allOf: ['orders:write'] },
        },
        { id: 'admin', from: [{ principals: [ADMIN] }], to: [{ methods: ['GET'], paths: ['/admin/{*}'] }] },
      ],
    }),
    [
      ['GET', '/orders/export', 403],
      ['HEAD', '/orders/export', 403],
      ['GET', '/orders/1', 200],
      ['POST', '/orders', 403],
      ['GET', '/admin/users', 403],
    ],
  ),
  shape(
    'default allow with DENYs',
    definePolicy({
      defaultAction: 'allow',
      rules: [
        NO_EXPORT,
        {
          id: 'no-admin',
          action: 'DENY',
          from: [{ notPrincipals: [ADMIN] }],
          to: [{ paths: ['/admin/{**}'] }],
        },
        {
          id: 'place-orders',
          from: [{ trustDomains: ['example.org'] }],
          to: [{ methods: ['POST'], paths: ['/orders'] }],
          scopes: { allOf: ['orders:write'] },
        },
      ],
    }),
    [
      ['GET', '/orders/export', 403],
      ['HEAD', '/orders/export', 403],
      ['GET', '/orders/1', 200],
      ['POST', '/orders', 403],
      ['GET', '/admin/users', 403],
    ],
  ),
  shape(
    'broad ALLOW with a DENY carved out',
    definePolicy({ rules: [NO_EXPORT, { id: 'example-org', from: [{ trustDomains: ['example.org'] }] }] }),
    [
      ['GET', '/orders/export', 403],
      ['HEAD', '/orders/export', 403],
      ['GET', '/orders/1', 200],
      ['POST', '/orders', 200],
      ['GET', '/admin/users', 200],
    ],
  ),
]
