import { ConnectError } from '@connectrpc/connect'
import { SVIDKIT_CODE_HEADER, svidkitCodeOf, toConnectError } from '@svidkit/connect'
import { AccessDeniedError } from '@svidkit/core/errors'
import { describe, expect, test } from 'vitest'

describe('svidkitCodeOf', () => {
  test('reads the code of a refusal', () => {
    expect(svidkitCodeOf(toConnectError(new AccessDeniedError('ERR_ACCESS_DENIED', 'denied')))).toBe(
      'ERR_ACCESS_DENIED',
    )
  })
  test('a ConnectError a client received: the code from its metadata', () => {
    const err = new ConnectError('authz: denied', 7, { [SVIDKIT_CODE_HEADER]: 'ERR_SCOPE_MISSING' })
    expect(svidkitCodeOf(err)).toBe('ERR_SCOPE_MISSING')
  })
  test('undefined for other errors, no metadata, or a code svidkit does not have', () => {
    expect(svidkitCodeOf(new ConnectError('boom', 13))).toBeUndefined()
    expect(svidkitCodeOf(new ConnectError('x', 7, { [SVIDKIT_CODE_HEADER]: 'ERR_MADE_UP' }))).toBeUndefined()
    expect(svidkitCodeOf(new ConnectError('x', 7, { [SVIDKIT_CODE_HEADER]: 'constructor' }))).toBeUndefined()
    expect(svidkitCodeOf(new Error('x'))).toBeUndefined()
    expect(svidkitCodeOf(undefined)).toBeUndefined()
    expect(svidkitCodeOf('ERR_ACCESS_DENIED')).toBeUndefined()
    expect(svidkitCodeOf({ metadata: { get: 'no' } })).toBeUndefined()
  })
})
