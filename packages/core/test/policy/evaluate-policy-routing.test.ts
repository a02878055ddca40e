// Policy decides for the path and method the router serves: rule paths and request paths are
// canonicalised under the router's routing, GET rules cover HEAD where GET handlers answer HEAD,
// and DENY rules also match the handler's own path (a route template without parameters).
import { type HttpOperation, httpRouting } from '@svidkit/core/caller'
import { callerFromId, createPolicyAuthorizer, evaluatePolicy, loadPolicy } from '@svidkit/core/policy'
import { describe, expect, test } from 'vitest'

const WEB = callerFromId('spiffe://example.org/ns/shop/sa/web', { scopes: ['orders:read'] })
const exact = httpRouting()
const express = httpRouting({ caseSensitive: false, strictTrailingSlash: false })
const fastifyLoose = httpRouting({
  caseSensitive: false,
  strictTrailingSlash: false,
  mergeSlashes: true,
  semicolonDelimiter: true,
})

const carveOut = loadPolicy(`
rules:
  - id: no-export
    action: DENY
    to: [{ methods: [GET], paths: ['/orders/export'] }]
  - id: read-orders
    from: [{ trustDomains: [example.org] }]
    to: [{ methods: [GET], paths: ['/orders', '/orders/{**}'] }]
`)

const defaultAllow = loadPolicy(`
defaultAction: allow
rules:
  - id: no-admin
    action: DENY
    to: [{ paths: ['/admin/{**}'] }]
  - id: place-orders
    from: [{ trustDomains: [example.org] }]
    to: [{ methods: [POST], paths: ['/orders'] }]
    scopes: { allOf: ['orders:write'] }
`)

const op = (method: string, path: string, routing = exact, route?: string): HttpOperation => ({
  kind: 'http',
  method,
  path,
  routing,
  ...(route === undefined ? {} : { route }),
})
const decide = (policy: typeof carveOut, o: HttpOperation) =>
  evaluatePolicy(policy, { caller: WEB, self: undefined, operation: o })

describe('paths are matched as the router matches them', () => {
  test.each(['/orders/EXPORT', '/orders/Export', '/orders/export/', '/Orders/export', '/ORDERS/EXPORT/'])(
    'a case-insensitive router that ignores a trailing slash: GET %s is the export route, denied',
    (path) => {
      expect(decide(carveOut, op('GET', path, express))).toMatchObject({
        decision: 'deny',
        rule: 'no-export',
      })
    },
  )

  test.each(['/orders/EXPORT', '/orders/export/'])(
    'an exact router routes GET %s elsewhere: the broad ALLOW decides',
    (path) => {
      expect(decide(carveOut, op('GET', path, exact))).toMatchObject({
        decision: 'allow',
        rule: 'read-orders',
      })
    },
  )

  test.each(['//orders//export', '/orders/export;jsessionid=1', '/Orders//Export/;x'])(
    'merged slashes and the ";" delimiter: GET %s is denied',
    (path) => {
      expect(decide(carveOut, op('GET', path, fastifyLoose))).toMatchObject({
        decision: 'deny',
        rule: 'no-export',
      })
    },
  )

  test.each([
    ['GET', '/ADMIN/x'],
    ['GET', '/Admin/x/'],
    ['DELETE', '/admin/users/1'],
  ])('default allow with DENYs: %s %s is denied', (method, path) => {
    expect(decide(defaultAllow, op(method, path, express))).toMatchObject({
      decision: 'deny',
      rule: 'no-admin',
    })
  })

  test('default allow: POST /ORDERS without the scope is refused for lack of it, not allowed by default', () => {
    for (const path of ['/ORDERS', '/orders/', '/Orders']) {
      const d = decide(defaultAllow, op('POST', path, express))
      expect(d).toMatchObject({ decision: 'deny', rule: null, requiredScopes: ['orders:write'] })
    }
    // An exact router serves nothing at /ORDERS for POST /orders: nothing targets it.
    expect(decide(defaultAllow, op('POST', '/ORDERS', exact))).toMatchObject({
      decision: 'allow',
      rule: null,
    })
  })

  test('rule paths are folded too: a rule written in capitals matches on a case-insensitive router', () => {
    const policy = loadPolicy(`
rules:
  - id: reports
    from: [{ trustDomains: [example.org] }]
    to: [{ methods: [GET], paths: ['/Reports/Daily/', '/Files/*', '*.CSV', '/Docs/{*}/'] }]
`)
    for (const path of ['/reports/daily', '/REPORTS/DAILY/', '/files/a', '/x/y.csv', '/docs/intro']) {
      expect(decide(policy, op('GET', path, express)).decision, path).toBe('allow')
    }
    expect(decide(policy, op('GET', '/reports/daily', exact)).decision).toBe('deny')
    expect(decide(policy, op('GET', '/Reports/Daily/', exact)).decision).toBe('allow')
  })

  test('a prefix rule keeps its slash: "/files/*" does not match "/files" or "/filesx"', () => {
    const policy = loadPolicy(`
rules:
  - id: files
    from: [{ trustDomains: [example.org] }]
    to: [{ paths: ['/files/*'] }]
`)
    expect(decide(policy, op('GET', '/FILES/a', express)).decision).toBe('allow')
    expect(decide(policy, op('GET', '/files/', express)).decision).toBe('deny') // the "/files" route
    expect(decide(policy, op('GET', '/filesx', express)).decision).toBe('deny')
  })

  test('a non-ASCII character on a case-insensitive router fails closed', () => {
    const d = decide(carveOut, op('GET', '/orders/caf\u00e9', express))
    expect(d).toMatchObject({ decision: 'deny', rule: 'no-export' }) // DENY path conditions hold
  })
})

describe('HEAD is GET where GET handlers answer HEAD', () => {
  test('a DENY naming GET stops HEAD; an ALLOW naming GET allows it', () => {
    expect(decide(carveOut, op('HEAD', '/orders/export'))).toMatchObject({
      decision: 'deny',
      rule: 'no-export',
    })
    expect(decide(carveOut, op('HEAD', '/orders/1'))).toMatchObject({
      decision: 'allow',
      rule: 'read-orders',
    })
    expect(decide(carveOut, op('head', '/orders/EXPORT/', express))).toMatchObject({ rule: 'no-export' })
  })

  test('without headAsGet, HEAD is its own method', () => {
    const routing = httpRouting({ headAsGet: false })
    expect(decide(carveOut, op('HEAD', '/orders/export', routing))).toMatchObject({
      decision: 'deny',
      rule: null,
    })
  })

  test('notMethods: [GET] also excludes HEAD', () => {
    const policy = loadPolicy(`
rules:
  - id: writes-only
    action: DENY
    to: [{ notMethods: [GET] }]
  - id: all
    from: [{ trustDomains: [example.org] }]
`)
    expect(decide(policy, op('HEAD', '/x')).decision).toBe('allow')
    expect(decide(policy, op('POST', '/x')).decision).toBe('deny')
    expect(decide(policy, op('HEAD', '/x', httpRouting({ headAsGet: false }))).decision).toBe('deny')
  })
})

describe("DENY rules also match the handler's own path", () => {
  test('a literal route template that a router quirk reached is denied', () => {
    // e.g. a router that decodes %21 before matching: the request path is not the rule's, the route is.
    const policy = loadPolicy(`
rules:
  - id: no-bang
    action: DENY
    to: [{ paths: ['/a!'] }]
  - id: all
    from: [{ trustDomains: [example.org] }]
`)
    expect(decide(policy, op('GET', '/a%21'))).toMatchObject({ decision: 'allow' })
    expect(decide(policy, op('GET', '/a%21', exact, '/a!'))).toMatchObject({
      decision: 'deny',
      rule: 'no-bang',
    })
  })

  test('a notPaths exemption needs both views; parametric routes are not a view', () => {
    const policy = loadPolicy(`
rules:
  - id: only-health
    action: DENY
    to: [{ notPaths: ['/health'] }]
  - id: all
    from: [{ trustDomains: [example.org] }]
`)
    expect(decide(policy, op('GET', '/health', exact, '/health')).decision).toBe('allow')
    expect(decide(policy, op('GET', '/health', exact, '/status')).decision).toBe('deny')
    expect(decide(policy, op('GET', '/health', exact, '/:name')).decision).toBe('allow')
  })

  test('an ALLOW rule never matches on the route template alone', () => {
    const policy = loadPolicy(`
rules:
  - id: orders
    from: [{ trustDomains: [example.org] }]
    to: [{ paths: ['/orders'] }]
`)
    expect(decide(policy, op('GET', '/other', exact, '/orders')).decision).toBe('deny')
  })
})

test('createPolicyAuthorizer decides under each routing it is given, compiled once per routing', () => {
  const authorizer = createPolicyAuthorizer(carveOut)
  const input = (o: HttpOperation) => ({ caller: WEB, self: undefined, operation: o })
  for (let i = 0; i < 3; i++) {
    expect(authorizer.authorize(input(op('GET', '/orders/EXPORT', express)))).toMatchObject({
      rule: 'no-export',
    })
    expect(authorizer.authorize(input(op('GET', '/orders/EXPORT', exact)))).toMatchObject({
      rule: 'read-orders',
    })
  }
})
