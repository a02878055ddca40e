import {
  authorizeAny,
  authorizeId,
  authorizeMatcher,
  authorizeMemberOf,
  authorizeOneOf,
  callerFromId,
  type SyncAuthorizer,
} from '@svidkit/core/policy'
import { matchPathTemplate } from '@svidkit/core/spiffe-id'
import { describe, expect, test } from 'vitest'

const operation = { kind: 'grpc', method: '/a.B/C' } as const
const callers = [
  callerFromId('spiffe://foo.test/A'),
  callerFromId('spiffe://foo.test/B', { channel: 'xfcc' }),
  callerFromId('spiffe://foo.test/ns/prod/sa/web', { channel: 'jwt' }),
  callerFromId('spiffe://bar.test/A'),
  callerFromId({ iss: 'https://i.test', sub: 'alice' }),
]
const run = (a: SyncAuthorizer) =>
  callers.map((caller) => a.authorize({ caller, self: undefined, operation }).decision === 'allow')

describe('go-spiffe style function authorizers', () => {
  test('authorizeAny allows every authenticated caller', () => {
    expect(run(authorizeAny())).toEqual([true, true, true, true, true])
  })
  test('authorizeId', () => {
    expect(run(authorizeId('spiffe://foo.test/A'))).toEqual([true, false, false, false, false])
  })
  test('authorizeOneOf; with no IDs nobody', () => {
    expect(run(authorizeOneOf('spiffe://foo.test/A', 'spiffe://bar.test/A'))).toEqual([
      true,
      false,
      false,
      true,
      false,
    ])
    expect(run(authorizeOneOf())).toEqual([false, false, false, false, false])
  })
  test('authorizeMemberOf', () => {
    expect(run(authorizeMemberOf('foo.test'))).toEqual([true, true, true, false, false])
  })
  test('authorizeMatcher with a template', () => {
    expect(run(authorizeMatcher(matchPathTemplate('/ns/{ns}/sa/web', { trustDomain: 'foo.test' })))).toEqual([
      false,
      false,
      true,
      false,
      false,
    ])
  })
  test('decisions have the common shape and explain themselves', () => {
    const a = authorizeId('spiffe://foo.test/A')
    expect(a.authorize({ caller: callers[0]!, self: undefined, operation })).toEqual({
      decision: 'allow',
      rule: null,
      reason: 'caller spiffe://foo.test/A matches ID "spiffe://foo.test/A"',
      audit: [],
    })
    expect(a.authorize({ caller: callers[3]!, self: undefined, operation }).reason).toBe(
      'caller spiffe://bar.test/A rejected: unexpected ID "spiffe://bar.test/A"; expected ID "spiffe://foo.test/A"',
    )
    expect(a.authorize({ caller: callers[4]!, self: undefined, operation }).reason).toBe(
      'caller has no SPIFFE ID (channel oidc); expected ID "spiffe://foo.test/A"',
    )
  })
  test('invalid IDs are rejected when the authorizer is built', () => {
    expect(() => authorizeId('spiffe://foo.test/A/')).toThrow(
      expect.objectContaining({ code: 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH' }),
    )
  })
})

test('authorizeMatcher validates its argument', () => {
  expect(() => authorizeMatcher('spiffe://foo.test/A' as never)).toThrow(
    expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
  )
})
