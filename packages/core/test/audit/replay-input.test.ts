import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AuditEvent,
  auditEventInput,
  createAuditEvent,
  createAuditor,
  createAuthenticationFailureEvent,
  jsonLinesSink,
  parseAuditEvent,
} from '@svidkit/core/audit'
import type { Caller } from '@svidkit/core/caller'
import {
  type AuthorizationInput,
  callerFromId,
  createPolicyAuthorizer,
  type Decision,
  definePolicy,
  policyClaimPaths,
} from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { afterAll, describe, expect, test } from 'vitest'

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzcGlmZmUifQ.c2lnbmF0dXJl'
const self = SpiffeId.parse('spiffe://example.org/ns/shop/sa/orders')
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

// A policy whose decisions depend on everything an event must carry: caller, channel, scopes,
// claims (top-level and nested), self (a boundary) and the operation.
const policy = definePolicy({
  identity: { template: '/ns/{namespace}/sa/{serviceAccount}' },
  rules: [
    { id: 'same-namespace', action: 'DENY', boundary: { namespace: { notSameAs: 'self' } } },
    {
      id: 'portal-admins-write',
      from: [{ channels: ['jwt'] }],
      to: [{ methods: ['POST'], paths: ['/orders'] }],
      scopes: { allOf: ['orders:write'] },
      when: [
        { claim: 'azp', equals: 'portal' },
        { claim: ['realm_access', 'roles'], in: ['admin'] },
      ],
    },
    { id: 'reads', to: [{ methods: ['GET'], paths: ['/orders/{*}'] }] },
    { id: 'grpc-get', to: [{ grpcMethods: ['/orders.v1.Orders/Get'] }], from: [{ channels: ['mtls'] }] },
  ],
})
const authorizer = createPolicyAuthorizer(policy)

/** A request refused before a caller was established. */
const failureEvent = () =>
  createAuthenticationFailureEvent(
    {
      operation: { kind: 'http', method: 'GET', path: '/' },
      self,
      code: 'ERR_CREDENTIALS_MISSING',
      reason: 'no',
    },
    { latencyMs: 0 },
  )

const jwtCaller: Caller = {
  ...callerFromId('spiffe://example.org/ns/shop/sa/web', { channel: 'jwt', scopes: ['orders:write'] }),
  claims: {
    sub: 'spiffe://example.org/ns/shop/sa/web',
    azp: 'portal',
    realm_access: { roles: ['admin', 'viewer'] },
    email: 'bob@example.com',
    raw: TOKEN,
  },
}

/** Records the decision as an event, writes and reads it back as a JSON line, decides again. */
function roundTrip(input: AuthorizationInput, claims = policyClaimPaths(policy)): [Decision, Decision] {
  const decided = authorizer.authorize(input)
  const line = JSON.stringify(createAuditEvent(input, decided, { latencyMs: 0.1, claims }))
  const again = authorizer.authorize(auditEventInput(parseAuditEvent(JSON.parse(line))))
  return [decided, again]
}

describe('an audit event carries enough to decide the request again', () => {
  test.each([
    [
      'jwt caller with scopes and nested claims',
      jwtCaller,
      { kind: 'http', method: 'POST', path: '/orders' },
    ],
    [
      'jwt caller missing the scope',
      callerFromId('spiffe://example.org/ns/shop/sa/web', { channel: 'jwt', claims: { azp: 'portal' } }),
      { kind: 'http', method: 'POST', path: '/orders' },
    ],
    [
      'another namespace (boundary against self)',
      callerFromId('spiffe://example.org/ns/dev/sa/web'),
      { kind: 'http', method: 'GET', path: '/orders/1' },
    ],
    [
      'mTLS gRPC',
      callerFromId('spiffe://example.org/ns/shop/sa/web'),
      { kind: 'grpc', method: '/orders.v1.Orders/Get' },
    ],
    [
      'xfcc gRPC (channel matters)',
      callerFromId('spiffe://example.org/ns/shop/sa/web', { channel: 'xfcc' }),
      { kind: 'grpc', method: '/orders.v1.Orders/Get' },
    ],
    [
      'OIDC caller',
      callerFromId({ iss: 'https://login.example.com', sub: 'alice' }, { scopes: ['orders:write'] }),
      { kind: 'http', method: 'POST', path: '/orders' },
    ],
  ] as const)('%s', (_name, caller, operation) => {
    const [decided, again] = roundTrip({ caller, self, operation })
    expect(again).toEqual(decided)
  })

  test('the first case is an allow that needs every recorded claim: without them it is a deny', () => {
    const input = {
      caller: jwtCaller,
      self,
      operation: { kind: 'http', method: 'POST', path: '/orders' },
    } as const
    expect(roundTrip(input)[0]).toMatchObject({ decision: 'allow', rule: 'portal-admins-write' })
    expect(roundTrip(input, ['azp'])[1]).toMatchObject({ decision: 'deny' })
  })

  test('claims: only the configured paths, scalar values only, never the rest of the token', () => {
    const e = createAuditEvent(
      { caller: jwtCaller, self, operation: { kind: 'http', method: 'GET', path: '/orders/1' } },
      authorizer.authorize({
        caller: jwtCaller,
        self,
        operation: { kind: 'http', method: 'GET', path: '/orders/1' },
      }),
      { latencyMs: 0, claims: ['azp', ['realm_access', 'roles'], 'missing', 'realm_access', ['sub']] },
    )
    expect(e.claims).toEqual([
      { path: ['azp'], value: 'portal' },
      { path: ['realm_access', 'roles'], value: ['admin', 'viewer'] },
      { path: ['missing'] },
      { path: ['realm_access'] }, // an object: no condition can compare it
      { path: ['sub'], value: 'spiffe://example.org/ns/shop/sa/web' },
    ])
    const text = JSON.stringify(e)
    expect(text).not.toContain('bob@example.com')
    expect(text).not.toContain('eyJ')
  })

  test('certificate callers and failures carry no claims; failures carry no scopes', () => {
    const mtls = createAuditEvent(
      {
        caller: callerFromId('spiffe://example.org/ns/shop/sa/web'),
        self,
        operation: { kind: 'grpc', method: '/a.B/C' },
      },
      { decision: 'allow', rule: null, reason: 'ok', audit: [] },
      { latencyMs: 0, claims: ['azp'] },
    )
    expect(mtls.claims).toBeUndefined()
    expect(mtls.scopes).toEqual([])
    const failure = failureEvent()
    expect(failure).toMatchObject({ caller: null, channel: null, scopes: [] })
  })

  test('createAuditor({ claims }) records them; bad claim paths are refused when it is created', () => {
    const events: AuditEvent[] = []
    const auditor = createAuditor({
      sink: { write: (e) => events.push(e) },
      claims: ['azp'],
      telemetry: false,
    })
    auditor.record(
      { caller: jwtCaller, self, operation: { kind: 'http', method: 'GET', path: '/orders/1' } },
      { decision: 'allow', rule: 'reads', reason: 'ok', audit: [] },
      1,
    )
    expect(events[0]?.claims).toEqual([{ path: ['azp'], value: 'portal' }])
    for (const claims of [[''], [[]], 'azp', [['a', 1]]]) {
      expect(() => createAuditor({ claims: claims as never })).toThrow(
        expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
      )
    }
  })
})

describe('parseAuditEvent', () => {
  const event = createAuditEvent(
    { caller: jwtCaller, self, operation: { kind: 'http', method: 'GET', path: '/orders/1' } },
    { decision: 'deny', rule: 'x', reason: 'no', audit: ['a'] },
    { latencyMs: 0.5, claims: ['azp'] },
  )

  test('reads back what createAuditEvent wrote, and a pino line of loggerSink', () => {
    expect(parseAuditEvent(JSON.parse(JSON.stringify(event)))).toEqual(event)
    const pino = { level: 40, time: 1, pid: 7, hostname: 'h', msg: 'svidkit authorization deny', ...event }
    expect(parseAuditEvent(pino)).toEqual(event)
  })

  test.each([
    ['not an object', 'x', 'event'],
    ['caller', { ...event, caller: 42 }, 'caller'],
    ['channel', { ...event, channel: 'carrier-pigeon' }, 'channel'],
    ['oidc channel with a SPIFFE ID', { ...event, channel: 'oidc' }, 'channel'],
    ['a channel without a caller', { ...event, caller: null }, 'channel'],
    ['decision', { ...event, decision: 'maybe' }, 'decision'],
    ['operation', { ...event, operation: { kind: 'http', method: 'GET' } }, 'operation.path'],
    ['operation kind', { ...event, operation: { kind: 'ws', method: 'GET' } }, 'operation.kind'],
    ['scopes', { ...event, scopes: 'a b' }, 'scopes'],
    ['claims', { ...event, claims: [{ path: 'azp', value: 'x' }] }, 'claims[0].path'],
    ['claim value', { ...event, claims: [{ path: ['azp'], value: { a: 1 } }] }, 'claims[0].value'],
    ['timestamp', { ...event, timestamp: 1 }, 'timestamp'],
  ])('refuses a bad %s with ERR_AUDIT_EVENT_INVALID naming the field', (_name, value, field) => {
    expect(() => parseAuditEvent(value)).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIT_EVENT_INVALID', details: { field } }),
    )
  })
})

describe('auditEventInput', () => {
  test('an event refused before a caller was established has nothing to decide', () => {
    const failure = failureEvent()
    expect(() => auditEventInput(failure)).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIT_EVENT_INVALID' }),
    )
  })

  test('an ID that does not parse is ERR_AUDIT_EVENT_INVALID, with the cause', () => {
    const bad = parseAuditEvent({
      ...JSON.parse(
        JSON.stringify(
          createAuditEvent(
            {
              caller: callerFromId('spiffe://example.org/a'),
              self,
              operation: { kind: 'grpc', method: '/a.B/C' },
            },
            { decision: 'allow', rule: null, reason: 'ok', audit: [] },
            { latencyMs: 0 },
          ),
        ),
      ),
      caller: 'spiffe://Example.org/a',
    })
    expect(() => auditEventInput(bad)).toThrow(
      expect.objectContaining({
        code: 'ERR_AUDIT_EVENT_INVALID',
        cause: expect.objectContaining({ code: expect.stringMatching(/^ERR_SPIFFE_ID_/) }),
      }),
    )
  })
})

describe('jsonLinesSink', () => {
  test('appends one JSON event per line to a file (mode 0600) and flushes on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svidkit-audit-'))
    dirs.push(dir)
    const file = join(dir, 'audit.jsonl')
    const input = {
      caller: jwtCaller,
      self,
      operation: { kind: 'http', method: 'GET', path: '/orders/1' },
    } as const
    for (const round of [1, 2]) {
      const sink = jsonLinesSink(file)
      const auditor = createAuditor({ sink, telemetry: false })
      auditor.record(input, { decision: 'allow', rule: `r${round}`, reason: 'ok', audit: [] }, 1)
      await sink.close()
    }
    const lines = readFileSync(file, 'utf8').split('\n')
    expect(lines.pop()).toBe('')
    expect(lines.map((l) => parseAuditEvent(JSON.parse(l)).rule)).toEqual(['r1', 'r2'])
    const { statSync } = await import('node:fs')
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  test('writes to any writable; a failing file never throws into the request, it reports to onError', async () => {
    const chunks: string[] = []
    const sink = jsonLinesSink({ write: (c: string) => chunks.push(c) })
    const event = createAuditEvent(
      { caller: jwtCaller, self, operation: { kind: 'http', method: 'GET', path: '/orders/1' } },
      { decision: 'deny', rule: null, reason: 'no', audit: [] },
      { latencyMs: 0 },
    )
    sink.write(event)
    expect(chunks).toEqual([`${JSON.stringify(event)}\n`])
    const errors: unknown[] = []
    const broken = jsonLinesSink(join(tmpdir(), 'svidkit-no-such-dir', 'x', 'audit.jsonl'), {
      onError: (e) => errors.push(e),
    })
    expect(() => broken.write(event)).not.toThrow()
    await broken.close()
    await new Promise((r) => setTimeout(r, 50))
    expect(errors).toEqual([expect.objectContaining({ code: 'ENOENT' })])
    expect(() => jsonLinesSink({} as never)).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  })
})
