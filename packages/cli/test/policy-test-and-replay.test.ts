import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compileRoute } from '@svidkit/core/adapter'
import { jsonLinesSink } from '@svidkit/core/audit'
import { type CallerCredentials, createCallerVerifier } from '@svidkit/core/caller'
import { createPolicyAuthorizer, loadPolicyFile, policyClaimPaths } from '@svidkit/core/policy'
import { TestCA } from '@svidkit/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runCli } from './run-cli.js'

let dir: string
const f = (name: string) => join(dir, name)
const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'

const POLICY = `identity:
  template: /ns/{namespace}/sa/{serviceAccount}
rules:
  - id: same-namespace-only
    action: DENY
    boundary: { namespace: { notSameAs: self } }
  - id: orders-read
    from: [{ principals: ['spiffe://example.org/ns/{*}/sa/web'] }]
    to: [{ methods: [GET], paths: ['/orders', '/orders/{*}'] }]
  - id: portal-writes
    from: [{ channels: [jwt] }]
    to: [{ methods: [POST], paths: ['/orders'] }]
    scopes: { allOf: ['orders:write'] }
    when: [{ claim: azp, equals: portal }]
  - id: grpc-get
    to: [{ grpcMethods: ['/orders.v1.Orders/Get'] }]
`

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svidkit-policy-test-'))
  writeFileSync(f('policy.yaml'), POLICY)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('svidkit policy test', () => {
  const CASES = `self: ${ORDERS}
cases:
  - name: web reads an order
    caller: spiffe://example.org/ns/shop/sa/web
    http: GET /orders/42
    expect: allow
    rule: orders-read
  - name: another namespace is refused
    caller: spiffe://example.org/ns/dev/sa/web
    http: get /orders/42
    expect: deny
    rule: same-namespace-only
  - name: the portal places an order
    caller: spiffe://example.org/ns/shop/sa/portal
    channel: jwt
    scopes: ['orders:write']
    claims: { azp: portal }
    http: POST /orders
    expect: allow
  - name: no default allow
    caller: spiffe://example.org/ns/shop/sa/web
    http: DELETE /orders/42
    expect: deny
    rule: null
  - caller: spiffe://example.org/ns/shop/sa/batch
    grpc: /orders.v1.Orders/Get
    expect: allow
  - name: an OIDC user is not a workload
    caller: { iss: 'https://login.example.com', sub: alice }
    http: GET /orders
    expect: deny
`

  test('every case passes: a table, PASS n/n, exit 0', async () => {
    writeFileSync(f('cases.yaml'), CASES)
    const r = await runCli(['policy', 'test', f('policy.yaml'), f('cases.yaml')])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines.filter((l) => l.startsWith('PASS  '))).toHaveLength(6)
    expect(lines.at(-1)).toBe('PASS: 6/6')
    expect(r.stdout).toMatch(/PASS {2}web reads an order +3 +allow orders-read +allow orders-read/)
    // A case without a name is named by its caller and operation.
    expect(r.stdout).toContain('spiffe://example.org/ns/shop/sa/batch /orders.v1.Orders/Get')
  })

  test('a wrong decision or a wrong rule fails the case: the table and the reason on stdout, exit 1', async () => {
    writeFileSync(
      f('failing.yaml'),
      `${CASES}  - name: batch reads orders
    caller: spiffe://example.org/ns/shop/sa/batch
    http: GET /orders
    expect: allow
  - name: right decision, wrong rule
    caller: spiffe://example.org/ns/dev/sa/web
    http: GET /orders
    expect: deny
    rule: orders-read
`,
    )
    const r = await runCli(['policy', 'test', f('policy.yaml'), f('failing.yaml')])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(
      /FAIL {2}batch reads orders +\d+ +allow +deny \(default\)\n +no rule allowed GET \/orders/,
    )
    expect(r.stdout).toMatch(
      /FAIL {2}right decision, wrong rule +\d+ +deny orders-read +deny same-namespace-only/,
    )
    expect(r.stdout.trim().split('\n').slice(-2)).toEqual(['PASS: 6/8', 'FAIL: 2/8'])

    const j = await runCli(['policy', 'test', f('policy.yaml'), f('failing.yaml'), '--json'])
    expect(j.code).toBe(1)
    expect(j.json).toMatchObject({ ok: true, passed: 6, failed: 2 })
    const cases = j.json!.cases as { name: string; pass: boolean; line: number }[]
    expect(cases.filter((c) => !c.pass).map((c) => c.name)).toEqual([
      'batch reads orders',
      'right decision, wrong rule',
    ])
    expect(cases[0]).toEqual({
      name: 'web reads an order',
      line: 3,
      pass: true,
      expected: { decision: 'allow', rule: 'orders-read' },
      got: { decision: 'allow', rule: 'orders-read', reason: 'allowed by rule "orders-read"' },
    })
  })

  test.each([
    [
      'an unknown key',
      'cases:\n  - caller: spiffe://example.org/a\n    http: GET /\n    expect: allow\n    expected: deny\n',
      'cases[0].expected: unknown key',
      5,
    ],
    [
      'no expect',
      'cases:\n  - caller: spiffe://example.org/a\n    http: GET /\n',
      'cases[0].expect: must be "allow" or "deny"',
      2,
    ],
    [
      'both http and grpc',
      'cases:\n  - caller: spiffe://example.org/a\n    http: GET /\n    grpc: /a.B/C\n    expect: allow\n',
      'needs exactly one of',
      2,
    ],
    [
      'a bad http line',
      'cases:\n  - caller: spiffe://example.org/a\n    http: /orders\n    expect: allow\n',
      'cases[0].http: must read "METHOD /path"',
      3,
    ],
    [
      'an oidc channel for a SPIFFE ID',
      'cases:\n  - caller: spiffe://example.org/a\n    channel: oidc\n    http: GET /\n    expect: allow\n',
      'cases[0].channel',
      3,
    ],
    ['no cases', 'self: spiffe://example.org/a\n', 'cases: must be a non-empty list', undefined],
    ['a YAML syntax error', 'cases: [\n', 'syntax error', 2],
  ])('%s is ERR_POLICY_TESTS_INVALID naming the key and line, exit 1', async (_name, text, message, line) => {
    writeFileSync(f('bad.yaml'), text)
    const r = await runCli(['policy', 'test', f('policy.yaml'), f('bad.yaml'), '--json'])
    expect(r.code).toBe(1)
    expect(r.json).toMatchObject({ ok: false, code: 'ERR_POLICY_TESTS_INVALID' })
    expect(r.json!.message).toContain(message)
    expect(r.json!.message).toMatch(/^policy: /)
    if (line !== undefined) expect(r.json!.message).toContain(`line ${line}`)
  })

  test('a case whose caller is not a SPIFFE ID is a bad test file; missing files are ERR_CLI_INPUT', async () => {
    writeFileSync(
      f('bad-id.yaml'),
      'cases:\n  - caller: spiffe://Example.org/a\n    http: GET /\n    expect: allow\n',
    )
    const r = await runCli(['policy', 'test', f('policy.yaml'), f('bad-id.yaml'), '--json'])
    expect(r.json).toMatchObject({ ok: false, code: 'ERR_POLICY_TESTS_INVALID' })
    expect(r.json!.message).toContain('line 2')
    expect((await runCli(['policy', 'test', f('policy.yaml'), f('none.yaml'), '--json'])).json).toMatchObject(
      {
        code: 'ERR_CLI_INPUT',
      },
    )
    expect((await runCli(['policy', 'test', f('policy.yaml'), '--json'])).code).toBe(2)
  })
})

describe('svidkit policy replay', () => {
  const audience = ORDERS
  /** `svidkit policy replay --audit <audit.jsonl> …args`. */
  const replay = (...args: string[]) => runCli(['policy', 'replay', '--audit', f('audit.jsonl'), ...args])
  let ca: TestCA

  beforeAll(async () => {
    ca = await TestCA.create({ trustDomain: 'example.org' })
    // Real decisions: core's caller verifier with the policy, auditing to svidkit's JSON sink.
    const policy = loadPolicyFile(f('policy.yaml'))
    const sink = jsonLinesSink(f('audit.jsonl'))
    const verifier = createCallerVerifier({
      bundles: ca.bundleSet(),
      self: ORDERS,
      jwt: { audience },
      authorizer: createPolicyAuthorizer(policy),
      audit: { sink, claims: policyClaimPaths(policy), telemetry: false },
    })
    const svid = async (id: string) => (await ca.issueX509Svid({ id })).certificates
    const token = (id: string, claims: Record<string, unknown>) =>
      ca.mintJwtSvid({ subject: id, audience, claims })
    const http = (method: string, path: string) => ({ kind: 'http', method, path }) as const
    const call = async (c: CallerCredentials, options?: Parameters<typeof verifier.verifyCaller>[1]) => {
      try {
        await verifier.verifyCaller(c, options)
      } catch {
        // refusals are audited too
      }
    }
    const web = await svid('/ns/shop/sa/web')
    for (let i = 0; i < 3; i++) await call({ operation: http('GET', '/orders'), peerCertificates: web })
    await call({ operation: http('GET', '/orders/7'), peerCertificates: web })
    await call({ operation: http('GET', '/orders'), peerCertificates: await svid('/ns/dev/sa/web') })
    await call({ operation: http('GET', '/orders'), peerCertificates: await svid('/ns/shop/sa/batch') })
    await call({ operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' }, peerCertificates: web })
    const portal = await token('/ns/shop/sa/portal', { azp: 'portal', scope: 'orders:write' })
    for (let i = 0; i < 2; i++)
      await call({ operation: http('POST', '/orders'), authorization: `Bearer ${portal}` })
    await call({ operation: http('GET', '/orders') }) // no credentials: refused before a caller
    // A route requirement refuses what the policy allows: recorded, but not the policy's decision.
    await call(
      { operation: http('GET', '/orders/9'), peerCertificates: web },
      {
        requirement: compileRoute(
          { callers: ['spiffe://example.org/ns/shop/sa/admin'], id: 'admins-only' },
          { identityTemplates: [] },
        ).requirement,
      },
    )
    await sink.close()
    writeFileSync(
      f('next.yaml'),
      POLICY.replace("paths: ['/orders', '/orders/{*}']", "paths: ['/orders/{*}']") // web loses GET /orders
        .replace('equals: portal', 'in: [portal, backoffice]') // same decisions, condition widened
        .concat(`  - id: batch-lists-orders
    from: [{ principals: ['spiffe://example.org/ns/shop/sa/batch'] }]
    to: [{ methods: [GET], paths: ['/orders'] }]
  - id: no-grpc
    action: DENY
    to: [{ grpcMethods: ['/orders.v1.Orders/*'] }]
`),
    )
  })

  test('against the recorded decisions: every change, grouped by caller and operation, with counts; exit 1', async () => {
    const r = await replay('--policy', f('next.yaml'), '--json')
    expect(r.code).toBe(1)
    expect(r.json).toMatchObject({
      ok: true,
      baseline: 'recorded',
      events: 11,
      replayed: 10,
      skipped: { unauthenticated: 1, claimsNotRecorded: 0 },
      ignoredLines: 0,
    })
    const changes = r.json!.changes as {
      change: string
      caller: string
      operation: unknown
      count: number
      before: { rule: string | null }
      after: { rule: string | null }
    }[]
    const summary = changes.map((c) => [
      c.change,
      c.caller.split('/').pop(),
      c.operation,
      c.count,
      c.before.rule,
      c.after.rule,
    ])
    expect(summary).toEqual(
      expect.arrayContaining([
        ['allow→deny', 'web', { kind: 'http', method: 'GET', path: '/orders' }, 3, 'orders-read', null],
        [
          'deny→allow',
          'batch',
          { kind: 'http', method: 'GET', path: '/orders' },
          1,
          null,
          'batch-lists-orders',
        ],
        ['allow→deny', 'web', { kind: 'grpc', method: '/orders.v1.Orders/Get' }, 1, 'grpc-get', 'no-grpc'],
        // The route requirement's refusal shows as a change: the recorded decision is not the policy's.
        [
          'deny→allow',
          'web',
          { kind: 'http', method: 'GET', path: '/orders/9' },
          1,
          'admins-only',
          'orders-read',
        ],
      ]),
    )
    expect(summary).toHaveLength(4)
    expect(r.json).toMatchObject({ changed: 6, unchanged: 4 })
    // Biggest group first among the allow→deny changes.
    expect(changes[0]).toMatchObject({ change: 'allow→deny', count: 3 })

    const human = await replay('--policy', f('next.yaml'))
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(
      /allow→deny +×3 +spiffe:\/\/example.org\/ns\/shop\/sa\/web \(mtls\) +GET \/orders\n +before: allowed by rule "orders-read"\n +after: +no rule allowed GET \/orders/,
    )
    expect(human.stdout).toContain('not replayed: 1 refused before a caller was established')
  })

  test('--policy-old: only what the edit changes (the route requirement is no longer noise)', async () => {
    const r = await replay('--policy', f('next.yaml'), '--policy-old', f('policy.yaml'), '--json')
    expect(r.code).toBe(1)
    expect(r.json).toMatchObject({
      baseline: f('policy.yaml'),
      replayed: 10,
      changed: 5,
      notReproducedByOldPolicy: 1,
    })
    const changes = r.json!.changes as { change: string; operation: { path?: string } }[]
    expect(changes.map((c) => c.operation.path ?? 'grpc').sort()).toEqual(['/orders', '/orders', 'grpc'])
  })

  test('no change: exit 0; the same policy replays to itself', async () => {
    const r = await replay('--policy', f('policy.yaml'), '--policy-old', f('policy.yaml'))
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('no decision would change (10 unchanged)')
  })

  test('a policy that reads a claim the events do not record: those token callers are not replayed', async () => {
    writeFileSync(
      f('claims.yaml'),
      POLICY.replace(
        'when: [{ claim: azp, equals: portal }]',
        'when: [{ claim: [realm, roles], in: [writer] }]',
      ),
    )
    const r = await replay('--policy', f('claims.yaml'), '--json')
    expect(r.json).toMatchObject({
      replayed: 8,
      skipped: { claimsNotRecorded: 2 },
      claimsNotRecorded: ['realm.roles'],
    })
  })

  test('lines that are not audit events are counted and skipped; a file without any event is rejected', async () => {
    writeFileSync(f('mixed.jsonl'), '')
    appendFileSync(f('mixed.jsonl'), '{"level":30,"msg":"server listening"}\nnot json\n\n')
    const replayMixed = () =>
      runCli(['policy', 'replay', '--audit', f('mixed.jsonl'), '--policy', f('next.yaml'), '--json'])
    const none = await replayMixed()
    expect(none.code).toBe(1)
    expect(none.json).toMatchObject({ ok: false, code: 'ERR_AUDIT_EVENT_INVALID' })
    appendFileSync(f('mixed.jsonl'), readFileSync(f('audit.jsonl')))
    const r = await replayMixed()
    expect(r.json).toMatchObject({
      events: 11,
      ignoredLines: 2,
      ignored: [{ line: 1 }, { line: 2, reason: 'not JSON' }],
    })
    expect(
      (await runCli(['policy', 'replay', '--audit', f('nope.jsonl'), '--policy', f('next.yaml'), '--json']))
        .json,
    ).toMatchObject({ code: 'ERR_CLI_INPUT' })
    expect((await runCli(['policy', 'replay', '--policy', f('next.yaml'), '--json'])).code).toBe(2)
  })
})
