import {
  AccessDeniedError,
  JwtSvidError,
  SpiffeIdError,
  SvidkitError,
  statusTable,
  toGrpcStatus,
  toHttpResponse,
  toSvidkitError,
  X509SvidError,
} from '@svidkit/core/errors'
import { describe, expect, test } from 'vitest'

describe('errors', () => {
  test('message, code, domain and instanceof across the hierarchy', () => {
    const err = new JwtSvidError('ERR_JWT_SVID_EXPIRED', 'token has expired')
    expect(err.message).toBe('jwtsvid: token has expired')
    expect(err.code).toBe('ERR_JWT_SVID_EXPIRED')
    expect(err.name).toBe('JwtSvidError')
    expect(err).toBeInstanceOf(SvidkitError)
    expect(err).toBeInstanceOf(JwtSvidError)
    expect(err).not.toBeInstanceOf(X509SvidError)
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      code: 'ERR_JWT_SVID_EXPIRED',
      message: 'jwtsvid: token has expired',
    })
  })

  test('instanceof works for an error from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), {
      code: 'ERR_SPIFFE_ID_EMPTY',
      [Symbol.for('@svidkit/core.error')]: ['SpiffeIdError', 'SvidkitError'],
    })
    expect(foreign).toBeInstanceOf(SpiffeIdError)
    expect(foreign).toBeInstanceOf(SvidkitError)
    expect(foreign).not.toBeInstanceOf(JwtSvidError)
  })

  test('every code has a domain and consistent statuses', () => {
    for (const [code, e] of Object.entries(statusTable)) {
      expect(code).toMatch(/^ERR_[A-Z0-9_]+$/)
      expect(e.domain).toMatch(/^[a-z0-9]+$/)
      if (e.http === 401 || e.http === 400) expect(e.grpc).toBe(16)
      if (e.http === 403) expect(e.grpc).toBe(7)
      if (e.http === 503) expect(e.grpc).toBe(14)
      if (e.http === 500) expect(e.grpc).toBe(13)
    }
  })

  test('toSvidkitError never copies a foreign message', () => {
    const e = toSvidkitError(new Error('Bearer eyJhbGciOi.secret'))
    expect(e.code).toBe('ERR_INTERNAL')
    expect(e.message).not.toContain('eyJ')
  })
})

describe('HTTP mapping (RFC 6750)', () => {
  test('missing credentials: 401 with a bare challenge', () => {
    const r = toHttpResponse(new SvidkitError('ERR_CREDENTIALS_MISSING', 'no credentials'), {
      realm: 'orders',
    })
    expect(r.status).toBe(401)
    expect(r.headers['www-authenticate']).toBe('Bearer realm="orders"')
    expect(r.body.code).toBe('ERR_CREDENTIALS_MISSING')
  })

  test('invalid token: 401 invalid_token with a quoted-string safe description', () => {
    const r = toHttpResponse(
      new JwtSvidError('ERR_JWT_SVID_AUDIENCE_MISMATCH', 'expected audience in ["a"] (audience=["b"])'),
    )
    expect(r.status).toBe(401)
    expect(r.headers['www-authenticate']).toBe(
      'Bearer realm="svidkit", error="invalid_token", error_description="jwtsvid: expected audience in [?a?] (audience=[?b?])"',
    )
  })

  test('malformed request: 400 invalid_request; denied: 403 without challenge; scope: insufficient_scope', () => {
    expect(toHttpResponse(new SvidkitError('ERR_CREDENTIALS_MALFORMED', 'bad header')).status).toBe(400)
    const denied = toHttpResponse(new AccessDeniedError('ERR_ACCESS_DENIED', 'denied by rule "x"'))
    expect(denied.status).toBe(403)
    expect(denied.headers['www-authenticate']).toBeUndefined()
    const scope = toHttpResponse(
      new AccessDeniedError('ERR_SCOPE_MISSING', 'missing scope', {
        details: { requiredScopes: ['orders:read', 'x'] },
      }),
    )
    expect(scope.status).toBe(403)
    expect(scope.headers['www-authenticate']).toContain('error="insufficient_scope"')
    expect(scope.headers['www-authenticate']).toContain('scope="orders:read x"')
  })

  test('unknown errors are 500 and gRPC 13', () => {
    expect(toHttpResponse(new TypeError('boom')).status).toBe(500)
    expect(toGrpcStatus(new TypeError('boom')).code).toBe(13)
  })

  test('gRPC: 16 for authentication, 7 for authorization', () => {
    expect(toGrpcStatus(new JwtSvidError('ERR_JWT_SVID_EXPIRED', 'token has expired'))).toEqual({
      code: 16,
      details: 'ERR_JWT_SVID_EXPIRED: jwtsvid: token has expired',
    })
    expect(toGrpcStatus(new AccessDeniedError('ERR_ACCESS_DENIED', 'no')).code).toBe(7)
  })
})
