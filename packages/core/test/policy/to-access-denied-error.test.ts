import { AccessDeniedError, toGrpcStatus, toHttpResponse } from '@svidkit/core/errors'
import {
  callerFromId,
  createPolicyAuthorizer,
  type Decision,
  loadPolicy,
  toAccessDeniedError,
} from '@svidkit/core/policy'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { describe, expect, test } from 'vitest'

describe('toAccessDeniedError', () => {
  const policy = loadPolicy(`
rules:
  - id: write
    to: [{ methods: [POST] }]
    scopes: { allOf: ['orders:write'] }
  - id: nope
    action: DENY
    from: [{ principals: ['spiffe://example.org/bad'] }]
`)
  const authorizer = createPolicyAuthorizer(policy)
  const post = { kind: 'http', method: 'POST', path: '/orders' } as const

  test('a rule deny becomes ERR_ACCESS_DENIED (403 / PERMISSION_DENIED)', () => {
    const d = authorizer.authorize({
      caller: callerFromId('spiffe://example.org/bad'),
      self: undefined,
      operation: post,
    })
    const err = toAccessDeniedError(d)
    expect(err).toBeInstanceOf(AccessDeniedError)
    expect(err.code).toBe('ERR_ACCESS_DENIED')
    expect(err.reason).toBe(d.reason)
    expect(err.message).toBe(`authz: ${d.reason}`)
    expect(err.details).toEqual({ rule: 'nope', decision: d })
    expect(toHttpResponse(err).status).toBe(403)
    expect(toGrpcStatus(err).code).toBe(7)
  })

  test('a missing-scope deny becomes ERR_SCOPE_MISSING with insufficient_scope', () => {
    const d = authorizer.authorize({
      caller: callerFromId('spiffe://example.org/ok', { channel: 'jwt', scopes: ['orders:read'] }),
      self: undefined,
      operation: post,
    })
    const err = toAccessDeniedError(d)
    expect(err.code).toBe('ERR_SCOPE_MISSING')
    expect(err.details).toMatchObject({ rule: null, requiredScopes: ['orders:write'] })
    const res = toHttpResponse(err)
    expect(res.status).toBe(403)
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"')
    expect(res.headers['www-authenticate']).toContain('scope="orders:write"')
  })

  test('an allow decision is a programming error', () => {
    const allow: Decision = { decision: 'allow', rule: null, reason: 'ok', audit: [] }
    expect(() => toAccessDeniedError(allow)).toThrow(expect.objectContaining({ code: 'ERR_INTERNAL' }))
  })
})

describe('callerFromId', () => {
  test('builds SPIFFE callers without a credential', () => {
    const c = callerFromId('spiffe://example.org/web', {
      channel: 'jwt',
      scopes: ['a'],
      claims: { azp: 'x' },
    })
    expect(c.channel).toBe('jwt')
    expect(c.spiffeId?.equals('spiffe://example.org/web')).toBe(true)
    expect(c.trustDomain?.name).toBe('example.org')
    expect(c.scopes).toEqual(['a'])
    expect(c.claims).toEqual({ azp: 'x' })
    expect(c.captures).toEqual({})
    expect(c.certificate).toBeUndefined()
    expect(callerFromId(SpiffeId.parse('spiffe://example.org/web')).channel).toBe('mtls')
  })

  test('builds OIDC callers from { iss, sub }', () => {
    const c = callerFromId({ iss: 'https://i.test', sub: 'spiffe://example.org/a' })
    expect(c.channel).toBe('oidc')
    expect(c.principal).toEqual({ iss: 'https://i.test', sub: 'spiffe://example.org/a' })
    expect(c.spiffeId).toBeUndefined()
  })

  test('rejects inconsistent input', () => {
    expect(() => callerFromId('spiffe://example.org/web', { channel: 'oidc' })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => callerFromId({ iss: 'https://i.test', sub: 'a' }, { channel: 'mtls' })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => callerFromId({ iss: '', sub: 'a' })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => callerFromId('not-an-id')).toThrow(expect.objectContaining({ code: 'ERR_SPIFFE_ID_SCHEME' }))
  })
})
