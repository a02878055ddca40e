import type { X509Certificate } from 'node:crypto'
import {
  type AuditEvent,
  createAuditEvent,
  createAuditor,
  loggerSink,
  memorySink,
  noopSink,
  startTimer,
  withAudit,
} from '@svidkit/core/audit'
import type { Caller } from '@svidkit/core/caller'
import { AccessDeniedError } from '@svidkit/core/errors'
import {
  type AuthorizationInput,
  type Authorizer,
  callerFromId,
  createPolicyAuthorizer,
  type Decision,
} from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { describe, expect, test, vi } from 'vitest'

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzcGlmZmUifQ.c2lnbmF0dXJl'
const self = SpiffeId.parse('spiffe://example.org/svc/orders')

// A caller as verifyCaller would produce it, with claims and a certificate that must never be copied.
const jwtCaller: Caller = {
  ...callerFromId('spiffe://example.org/ns/shop/sa/web', { channel: 'jwt', scopes: ['orders:read'] }),
  claims: { sub: 'spiffe://example.org/ns/shop/sa/web', raw_token: TOKEN, email: 'bob@example.com' },
  certificate: { raw: Buffer.from('-----BEGIN CERTIFICATE-----') } as unknown as X509Certificate,
}
const input: AuthorizationInput = {
  caller: jwtCaller,
  self,
  operation: { kind: 'http', method: 'GET', path: `/orders/1?access_token=${TOKEN}` },
}
const allow: Decision = {
  decision: 'allow',
  rule: 'orders-read',
  reason: 'allowed by rule "orders-read"',
  audit: ['audit-all'],
}
const deny: Decision = { decision: 'deny', rule: null, reason: 'no rule allowed', audit: [] }

describe('createAuditEvent', () => {
  test('records identities, operation, decision, latency and time', () => {
    const e = createAuditEvent(input, allow, {
      latencyMs: 0.0042,
      timestamp: new Date('2030-01-02T03:04:05.000Z'),
    })
    expect(e).toEqual({
      timestamp: '2030-01-02T03:04:05.000Z',
      caller: 'spiffe://example.org/ns/shop/sa/web',
      channel: 'jwt',
      scopes: ['orders:read'],
      self: 'spiffe://example.org/svc/orders',
      operation: { kind: 'http', method: 'GET', path: '/orders/1' },
      decision: 'allow',
      rule: 'orders-read',
      reason: 'allowed by rule "orders-read"',
      audit: ['audit-all'],
      latencyMs: 0.0042,
    })
  })

  test('never carries a token, unrequested claims or a certificate', () => {
    const text = JSON.stringify(createAuditEvent(input, allow, { latencyMs: 1 }))
    expect(text).not.toContain('eyJ')
    expect(text).not.toContain('bob@example.com')
    expect(text).not.toContain('CERTIFICATE')
    expect(Object.keys(createAuditEvent(input, allow, { latencyMs: 1 })).sort()).toEqual(
      [
        'audit',
        'caller',
        'channel',
        'decision',
        'latencyMs',
        'operation',
        'reason',
        'rule',
        'scopes',
        'self',
        'timestamp',
      ].sort(),
    )
  })

  test('OIDC callers are recorded as { iss, sub }; gRPC operations by method; decision ids are kept', () => {
    const e = createAuditEvent(
      {
        caller: callerFromId({ iss: 'https://login.example.com', sub: 'alice' }, { claims: { t: TOKEN } }),
        self: undefined,
        operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' },
      },
      { ...deny, decisionId: 'opa-1' },
      { latencyMs: -3 },
    )
    expect(e).toMatchObject({
      caller: { iss: 'https://login.example.com', sub: 'alice' },
      channel: 'oidc',
      self: null,
      operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' },
      decisionId: 'opa-1',
      latencyMs: 0,
    })
    expect(JSON.stringify(e)).not.toContain('eyJ')
  })
})

describe('sinks', () => {
  test('memorySink keeps events in order and can be cleared', () => {
    const sink = memorySink()
    const auditor = createAuditor({ sink, telemetry: false })
    auditor.record(input, allow, 1)
    auditor.record(input, deny, 2)
    expect(sink.events.map((e) => [e.decision, e.latencyMs])).toEqual([
      ['allow', 1],
      ['deny', 2],
    ])
    sink.clear()
    expect(sink.events).toEqual([])
  })

  test('loggerSink logs allows at info and denies at warn, as (obj, msg)', () => {
    const lines: [string, AuditEvent, string | undefined][] = []
    const logger = {
      info: (obj: object, msg?: string) => lines.push(['info', obj as AuditEvent, msg]),
      warn: (obj: object, msg?: string) => lines.push(['warn', obj as AuditEvent, msg]),
    }
    const auditor = createAuditor({ logger, telemetry: false })
    auditor.record(input, allow, 1)
    auditor.record(input, deny, 1)
    expect(lines.map(([level, obj, msg]) => [level, obj.decision, msg])).toEqual([
      ['info', 'allow', 'svidkit authorization allow'],
      ['warn', 'deny', 'svidkit authorization deny'],
    ])
    expect(JSON.stringify(lines)).not.toContain('eyJ')
    const quiet: string[] = []
    const sink = loggerSink(
      { info: () => quiet.push('info'), warn: () => quiet.push('warn') },
      { denyLevel: 'info', message: 'authz' },
    )
    sink.write(createAuditEvent(input, deny, { latencyMs: 0 }))
    expect(quiet).toEqual(['info'])
    expect(() => loggerSink({} as never)).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  })

  test('a logger below both levels: no event is built; its level is read per decision', () => {
    let level = 'error'
    const order = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']
    const lines: string[] = []
    const logger = {
      info: () => lines.push('info'),
      warn: () => lines.push('warn'),
      isLevelEnabled: (l: string) => order.indexOf(l) >= order.indexOf(level),
    }
    const auditor = createAuditor({ logger, telemetry: false })
    expect(auditor.recording?.()).toBe(false)
    expect(auditor.record(input, deny, 1)).toBeUndefined()
    level = 'warn'
    expect(auditor.recording?.()).toBe(true)
    expect(auditor.record(input, deny, 1)?.decision).toBe('deny')
    expect(lines).toEqual(['warn'])
    // A sink whose check throws is written to anyway.
    const written: string[] = []
    const broken = createAuditor({
      sink: {
        write: (e) => written.push(e.decision),
        enabled: () => {
          throw new Error('broken')
        },
      },
      telemetry: false,
    })
    expect(broken.record(input, allow, 1)?.decision).toBe('allow')
    expect(written).toEqual(['allow'])
  })

  test('a throwing sink never breaks the request', () => {
    const onError = vi.fn()
    const auditor = createAuditor({
      sink: {
        write: () => {
          throw new Error('disk full')
        },
      },
      onError,
      telemetry: false,
    })
    expect(auditor.record(input, allow, 1).decision).toBe('allow')
    expect(onError).toHaveBeenCalledOnce()
    expect(() => createAuditor({ sink: noopSink }).record(input, allow, 1)).not.toThrow()
  })
})

describe('withAudit and startTimer', () => {
  test('startTimer gives non-negative, growing milliseconds', async () => {
    const elapsed = startTimer()
    const a = elapsed()
    await new Promise((r) => setTimeout(r, 5))
    expect(a).toBeGreaterThanOrEqual(0)
    expect(elapsed()).toBeGreaterThan(a)
  })

  test('a synchronous authorizer stays synchronous and is audited', () => {
    const sink = memorySink()
    const authorizer = withAudit(createPolicyAuthorizer({ rules: [{ id: 'all' }] }), {
      sink,
      telemetry: false,
    })
    const d = authorizer.authorize(input)
    expect(d).toMatchObject({ decision: 'allow', rule: 'all' })
    expect(sink.events).toHaveLength(1)
    expect(sink.events[0]).toMatchObject({
      decision: 'allow',
      rule: 'all',
      caller: 'spiffe://example.org/ns/shop/sa/web',
    })
    expect(sink.events[0]!.latencyMs).toBeGreaterThanOrEqual(0)
  })

  test('an asynchronous authorizer is awaited', async () => {
    const sink = memorySink()
    const slow: Authorizer = { authorize: async () => deny }
    const d = await withAudit(slow, createAuditor({ sink, telemetry: false })).authorize(input)
    expect(d).toBe(deny)
    expect(sink.events.map((e) => e.decision)).toEqual(['deny'])
  })

  test('a failing authorizer is audited as a deny and the error is rethrown', async () => {
    const sink = memorySink()
    const down = new AccessDeniedError('ERR_AUTHORIZER_UNAVAILABLE', 'OPA is unavailable: HTTP 500')
    const rejecting = withAudit({ authorize: () => Promise.reject(down) }, { sink, telemetry: false })
    await expect(rejecting.authorize(input)).rejects.toBe(down)
    const throwing = withAudit(
      {
        authorize: () => {
          throw new Error(`secret ${TOKEN}`)
        },
      },
      { sink, telemetry: false },
    )
    expect(() => throwing.authorize(input)).toThrow('secret')
    expect(sink.events.map((e) => [e.decision, e.rule, e.reason])).toEqual([
      ['deny', null, 'authorizer failed: authz: OPA is unavailable: HTTP 500'],
      ['deny', null, 'authorizer failed'],
    ])
    expect(JSON.stringify(sink.events)).not.toContain('eyJ')
  })
})
