import { Code, ConnectError } from '@connectrpc/connect'
import { SVIDKIT_CODE_HEADER, toConnectError } from '@svidkit/connect'
import {
  AccessDeniedError,
  CredentialsError,
  type ErrorCode,
  JwtSvidError,
  OptionsError,
  SourceError,
  statusTable,
} from '@svidkit/core/errors'
import { describe, expect, test } from 'vitest'

describe('toConnectError', () => {
  test.each([
    [new CredentialsError('ERR_CREDENTIALS_MISSING', 'no credentials'), Code.Unauthenticated],
    [new CredentialsError('ERR_CREDENTIALS_MALFORMED', 'not a bearer token'), Code.Unauthenticated],
    [new JwtSvidError('ERR_JWT_SVID_EXPIRED', 'token has expired'), Code.Unauthenticated],
    [new AccessDeniedError('ERR_ACCESS_DENIED', 'denied by rule "x"'), Code.PermissionDenied],
    [new AccessDeniedError('ERR_SCOPE_MISSING', 'missing scope orders:write'), Code.PermissionDenied],
    [new SourceError('ERR_SOURCE_NOT_READY', 'no bundle yet'), Code.Unavailable],
    [new OptionsError('ERR_OPTIONS_INVALID', 'bad option'), Code.Internal],
  ])('%s → code %i, message <domain>: <reason>, the svidkit code in metadata', (err, code) => {
    const e = toConnectError(err)
    expect(e).toBeInstanceOf(ConnectError)
    expect(e.code).toBe(code)
    expect(e.code as number).toBe(statusTable[err.code].grpc)
    expect(e.rawMessage).toBe(err.message)
    expect(e.rawMessage).toMatch(new RegExp(`^${statusTable[err.code].domain}: `))
    expect(e.metadata.get(SVIDKIT_CODE_HEADER)).toBe(err.code)
    expect(e.cause).toBe(err)
  })

  test('anything else is 13 ERR_INTERNAL, without its message', () => {
    const e = toConnectError(new Error('secret token abc.def.ghi'))
    expect(e.code).toBe(Code.Internal)
    expect(e.metadata.get(SVIDKIT_CODE_HEADER)).toBe('ERR_INTERNAL' satisfies ErrorCode)
    expect(e.message).not.toContain('abc.def.ghi')
  })

  test('every code of the status table maps to the Connect code of its gRPC status', () => {
    for (const code of Object.keys(statusTable) as ErrorCode[]) {
      const e = toConnectError(new CredentialsError(code, 'reason'))
      expect(e.code as number, code).toBe(statusTable[code].grpc)
      expect(Code[e.code], code).toBeDefined()
    }
  })
})
