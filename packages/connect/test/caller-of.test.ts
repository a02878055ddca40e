import { Code, ConnectError, createContextValues } from '@connectrpc/connect'
import { callerKey, callerOf, SVIDKIT_CODE_HEADER } from '@svidkit/connect'
import { type Caller, callerFromId } from '@svidkit/core/caller'
import { describe, expect, test } from 'vitest'

const caller: Caller = callerFromId('spiffe://example.org/web', { channel: 'mtls' })

function thrown(fn: () => unknown): ConnectError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError)
    return err as ConnectError
  }
  throw new Error('did not throw')
}

describe('callerOf', () => {
  test('the caller in the context values, from the values or a handler context', () => {
    const values = createContextValues().set(callerKey, caller)
    expect(callerOf(values)).toBe(caller)
    expect(callerOf({ values })).toBe(caller)
  })

  test('no svidkit interceptor saw the call: fails closed with 13 ERR_OPTIONS_INVALID', () => {
    const err = thrown(() => callerOf(createContextValues()))
    expect(err.code).toBe(Code.Internal)
    expect(err.metadata.get(SVIDKIT_CODE_HEADER)).toBe('ERR_OPTIONS_INVALID')
    expect(err.rawMessage).toMatch(/createSvidkitInterceptor/)
  })

  test('callerKey defaults to undefined', () => {
    expect(createContextValues().get(callerKey)).toBeUndefined()
  })
})
