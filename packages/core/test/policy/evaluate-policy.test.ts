import {
  type AuthorizationInput,
  callerFromId,
  createPolicyAuthorizer,
  definePolicy,
  evaluatePolicy,
  loadPolicy,
} from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { describe, expect, test } from 'vitest'
import { allSuites, type DecisionCase, type DecisionSuite } from './fixtures/cases.js'

function inputFor(suite: DecisionSuite, c: DecisionCase): AuthorizationInput {
  const self = c.self === null ? undefined : (c.self ?? suite.self)
  return { caller: c.caller, self: self === undefined ? undefined : SpiffeId.parse(self), operation: c.op }
}

describe.each(allSuites.map((s) => [s.name, s] as const))('%s', (_name, suite) => {
  const authorizer = createPolicyAuthorizer(loadPolicy(suite.yaml))
  test.each(suite.cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const d = authorizer.authorize(inputFor(suite, c))
    expect({ decision: d.decision, rule: d.rule }).toEqual({ decision: c.decision, rule: c.rule })
    if (c.reasonIs !== undefined) expect(d.reason).toBe(c.reasonIs)
    if (c.reason !== undefined) expect(d.reason).toContain(c.reason)
    expect(d.audit).toEqual(c.audit ?? [])
    if (c.requiredScopes) expect(d.requiredScopes).toEqual(c.requiredScopes)
    else expect(d.requiredScopes).toBeUndefined()
  })
})

describe('rule ids and decisions', () => {
  test('rules without an id are reported as rules[<index>]', () => {
    const policy = loadPolicy(`
rules:
  - action: DENY
    from: [{ principals: ['spiffe://example.org/bad'] }]
  - from: [{ trustDomains: [example.org] }]
`)
    expect(policy.rules.map((r) => r.id)).toEqual(['rules[0]', 'rules[1]'])
    const a = createPolicyAuthorizer(policy)
    const op = { kind: 'http', method: 'GET', path: '/' } as const
    expect(
      a.authorize({ caller: callerFromId('spiffe://example.org/bad'), self: undefined, operation: op }),
    ).toMatchObject({
      decision: 'deny',
      rule: 'rules[0]',
      reason: 'denied by rule "rules[0]": caller spiffe://example.org/bad, GET /',
    })
    expect(
      a.authorize({ caller: callerFromId('spiffe://example.org/ok'), self: undefined, operation: op }),
    ).toEqual({
      decision: 'allow',
      rule: 'rules[1]',
      reason: 'allowed by rule "rules[1]"',
      audit: [],
    })
  })

  test('default deny names the operation and the caller', () => {
    const a = createPolicyAuthorizer(definePolicy({ rules: [] }))
    const d = a.authorize({
      caller: callerFromId('spiffe://example.org/web'),
      self: undefined,
      operation: { kind: 'http', method: 'GET', path: '/admin' },
    })
    expect(d.reason).toBe(
      'no rule allowed GET /admin for spiffe://example.org/web: default deny (no rule targets this operation)',
    )
  })

  test('an empty ALLOW rule allows everything, and an explicit default allow with no rules allows', () => {
    const op = { kind: 'grpc', method: '/a.B/C' } as const
    const caller = callerFromId({ iss: 'https://i', sub: 's' })
    expect(
      createPolicyAuthorizer({ rules: [{ id: 'all' }] }).authorize({ caller, self: undefined, operation: op })
        .rule,
    ).toBe('all')
    expect(
      createPolicyAuthorizer({ defaultAction: 'allow', rules: [] }).authorize({
        caller,
        self: undefined,
        operation: op,
      }).decision,
    ).toBe('allow')
  })

  test('self from the authorizer options fills a missing input.self', () => {
    const doc = {
      identity: { template: '/t/{tenant}/{svc}' },
      rules: [{ id: 'same', boundary: { tenant: { sameAs: 'self' as const } } }],
    }
    const a = createPolicyAuthorizer(doc, { self: 'spiffe://example.org/t/acme/orders' })
    const input = {
      caller: callerFromId('spiffe://example.org/t/acme/web'),
      self: undefined,
      operation: { kind: 'grpc', method: '/a.B/C' },
    } as const
    expect(a.authorize(input).decision).toBe('allow')
    expect(
      a.authorize({ ...input, self: SpiffeId.parse('spiffe://example.org/t/globex/orders') }).decision,
    ).toBe('deny')
    expect(createPolicyAuthorizer(doc).authorize(input).decision).toBe('deny')
  })

  test('self captures are re-read when self changes', () => {
    const p = definePolicy({
      identity: { template: '/t/{tenant}/{svc}' },
      rules: [{ id: 'same', boundary: { tenant: { sameAs: 'self' } } }],
    })
    const caller = callerFromId('spiffe://example.org/t/acme/web')
    const operation = { kind: 'grpc', method: '/a.B/C' } as const
    const run = (self: string) =>
      evaluatePolicy(p, { caller, self: SpiffeId.parse(self), operation }).decision
    expect(run('spiffe://example.org/t/acme/x')).toBe('allow')
    expect(run('spiffe://example.org/t/globex/x')).toBe('deny')
    expect(run('spiffe://example.org/t/acme/x')).toBe('allow')
  })

  test('malformed input is denied, not thrown', () => {
    const a = createPolicyAuthorizer({ rules: [{ id: 'all' }] })
    expect(a.authorize({} as AuthorizationInput).decision).toBe('deny')
    const bad = {
      caller: callerFromId('spiffe://example.org/a'),
      self: undefined,
      operation: { kind: 'ws' },
    } as unknown as AuthorizationInput
    expect(a.authorize(bad)).toMatchObject({
      decision: 'deny',
      reason: 'unsupported operation kind: default deny',
    })
  })

  test('evaluatePolicy refuses objects that are not loaded policies', () => {
    expect(() =>
      evaluatePolicy({ rules: [] } as never, {
        caller: callerFromId('spiffe://example.org/a'),
        self: undefined,
        operation: { kind: 'grpc', method: '/a.B/C' },
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_POLICY_INVALID' }))
  })

  test('a loaded policy is immutable', () => {
    const p = definePolicy({ rules: [{ id: 'a', from: [{ trustDomains: ['example.org'] }] }] })
    expect(Object.isFrozen(p.document)).toBe(true)
    expect(Object.isFrozen(p.document.rules[0]?.from?.[0]?.trustDomains)).toBe(true)
    expect(p.defaultAction).toBe('deny')
  })
})
