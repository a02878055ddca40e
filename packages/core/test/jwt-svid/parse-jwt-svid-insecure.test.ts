import { createSecretKey } from 'node:crypto'
import { parseJwtSvidInsecure } from '@svidkit/core/jwt-svid'
import { codeOf, generateTestKeyPair, type TestKeyPair } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'
import { errorOf, nowSeconds, signJws } from './helpers.js'

let key1: TestKeyPair
let stranger: TestKeyPair

const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
  const now = nowSeconds()
  const c: Record<string, unknown> = {
    sub: 'spiffe://trustdomain/host',
    aud: ['audience'],
    exp: now + 60,
    iat: now,
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete c[k]
    else c[k] = v
  }
  return c
}
const es384 = (payload: unknown, header: Record<string, unknown> = {}): string =>
  signJws({ alg: 'ES384', typ: 'JWT', kid: 'authority1', ...header }, payload, key1.privateKey)

beforeAll(async () => {
  key1 = await generateTestKeyPair('ec-p384')
  stranger = await generateTestKeyPair('ec-p384')
})

describe('parseJwtSvidInsecure: go-spiffe ParseInsecure vectors', () => {
  test('valid token, no expected audience', () => {
    const svid = parseJwtSvidInsecure(es384(claims()))
    expect(svid.id.toString()).toBe('spiffe://trustdomain/host')
    expect(svid.audience).toEqual(['audience'])
    expect(Object.isFrozen(svid)).toBe(true)
  })

  test.each([
    ['invalid token', () => 'invalid token', 'ERR_JWT_SVID_MALFORMED'],
    [
      'HS256',
      () => signJws({ alg: 'HS256', kid: 'k' }, claims(), createSecretKey(Buffer.alloc(32, 1))),
      'ERR_JWT_SVID_ALG_NOT_ALLOWED',
    ],
    ['no sub', () => es384(claims({ sub: undefined })), 'ERR_JWT_SVID_SUB_MISSING'],
    ['no exp', () => es384(claims({ exp: undefined })), 'ERR_JWT_SVID_EXP_MISSING'],
    ['expired', () => es384(claims({ exp: nowSeconds() - 60 })), 'ERR_JWT_SVID_EXPIRED'],
    ['invalid subject', () => es384(claims({ sub: 'invalid subject' })), 'ERR_JWT_SVID_SUB_INVALID'],
    ['typ invalid', () => es384(claims(), { typ: 'invalid' }), 'ERR_JWT_SVID_TYP_INVALID'],
  ])('%s', (_name, token, code) => {
    expect(codeOf(() => parseJwtSvidInsecure(token(), { audience: 'audience' }))).toBe(code)
  })

  test('audience mismatch, with go-spiffe’s message', () => {
    const err = errorOf(() => parseJwtSvidInsecure(es384(claims()), { audience: ['another'] }))
    expect(err.code).toBe('ERR_JWT_SVID_AUDIENCE_MISMATCH')
    expect(err.message).toBe('jwtsvid: expected audience in ["another"] (audience=["audience"])')
  })

  test('no signature check, no kid, no bundle: a forged token parses (that is the point, and the danger)', () => {
    expect(codeOf(() => parseJwtSvidInsecure(es384(claims(), { kid: undefined })))).toBe('OK')
    const forged = signJws({ alg: 'ES384', kid: 'whatever' }, claims(), stranger.privateKey)
    expect(parseJwtSvidInsecure(forged).id.toString()).toBe('spiffe://trustdomain/host')
    const sub = claims({ sub: 'spiffe://another.domain/x' })
    expect(codeOf(() => parseJwtSvidInsecure(es384(sub)))).toBe('OK')
  })

  test('structural checks still apply', () => {
    expect(codeOf(() => parseJwtSvidInsecure(signJws({ alg: 'none' }, claims())))).toBe(
      'ERR_JWT_SVID_ALG_NOT_ALLOWED',
    )
    expect(codeOf(() => parseJwtSvidInsecure(es384(claims(), { crit: ['exp'] })))).toBe(
      'ERR_JWT_SVID_CRIT_UNSUPPORTED',
    )
    expect(codeOf(() => parseJwtSvidInsecure(es384(claims({ aud: undefined }))))).toBe(
      'ERR_JWT_SVID_AUD_MISSING',
    )
    expect(codeOf(() => parseJwtSvidInsecure(es384(claims({ big: 'x'.repeat(9000) }))))).toBe(
      'ERR_JWT_SVID_TOO_LARGE',
    )
    expect(codeOf(() => parseJwtSvidInsecure('{"payload":"x","signature":"y"}'))).toBe(
      'ERR_JWT_SVID_MALFORMED',
    )
  })

  test('time claims are checked at `at` with the skew', () => {
    const token = es384(claims({ exp: 2_000_000_000 }))
    expect(codeOf(() => parseJwtSvidInsecure(token, { at: new Date(2_000_000_000_000) }))).toBe('OK')
    expect(codeOf(() => parseJwtSvidInsecure(token, { at: new Date(2_000_000_060_000) }))).toBe(
      'ERR_JWT_SVID_EXPIRED',
    )
    expect(
      codeOf(() => parseJwtSvidInsecure(token, { at: new Date(2_000_000_001_000), clockSkewSeconds: 0 })),
    ).toBe('ERR_JWT_SVID_EXPIRED')
  })

  test('an empty expected audience is an options error, as in verification', () => {
    for (const audience of ['', [], ['']]) {
      expect(codeOf(() => parseJwtSvidInsecure(es384(claims()), { audience }))).toBe('ERR_OPTIONS_INVALID')
    }
    expect(codeOf(() => parseJwtSvidInsecure(es384(claims()), null as never))).toBe('ERR_OPTIONS_INVALID')
  })
})
