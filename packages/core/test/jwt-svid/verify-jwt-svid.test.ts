import { createSecretKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { BundleSet, JwtBundle } from '@svidkit/core/bundle'
import { JwtSvidError, OptionsError } from '@svidkit/core/errors'
import {
  createJwtSvidVerifier,
  type JwtSvid,
  type VerifyJwtSvidOptions,
  verifyJwtSvid,
} from '@svidkit/core/jwt-svid'
import { codeOf, generateTestKeyPair, TestCA, type TestKeyPair } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'
import { b64, errorOf, nowSeconds, signJws } from './helpers.js'

// go-spiffe svid/jwtsvid/svid_test.go: ES384 key1, RSA-2048 key2; bundle "trustdomain" has
// authority1 → key1 and authority2 → key2.
let key1: TestKeyPair
let key2: TestKeyPair
let bundle: JwtBundle
let bundles: BundleSet

type Verify = (token: string, opts: VerifyJwtSvidOptions) => JwtSvid

// Every vector runs through the standalone function and through the verifier, cached and not.
const entryPoints: [string, Verify][] = [
  ['verifyJwtSvid', (t, o) => verifyJwtSvid(t, bundles, o)],
  [
    'verifier (cache)',
    (t, o) => createJwtSvidVerifier({ bundles, ...o }).verify(t, o.at ? { at: o.at } : undefined),
  ],
  [
    'verifier (no cache)',
    (t, o) =>
      createJwtSvidVerifier({ bundles, ...o, cache: false }).verify(t, o.at ? { at: o.at } : undefined),
  ],
]

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
  key2 = await generateTestKeyPair('rsa-2048')
  bundle = JwtBundle.fromKeys('trustdomain', { authority1: key1.publicKey, authority2: key2.publicKey })
  bundles = new BundleSet([bundle])
})

describe.each(entryPoints)('%s: go-spiffe svid_test.go vectors', (_name, verify) => {
  const aud = { audience: 'audience' }

  test('valid token: id, audience, expiry, claims', () => {
    const c = claims()
    const token = es384(c)
    const svid = verify(token, aud)
    expect(svid.id.toString()).toBe('spiffe://trustdomain/host')
    expect(svid.audience).toEqual(['audience'])
    expect(svid.expiresAt.getTime()).toBe((c.exp as number) * 1000)
    expect(svid.issuedAt?.getTime()).toBe((c.iat as number) * 1000)
    expect(svid.claims).toEqual(c)
    expect(svid.token).toBe(token)
  })

  test('go passes a nil expected audience; svidkit refuses an empty one', () => {
    const token = es384(claims())
    for (const audience of [undefined, '', [], [''], ['a', '']]) {
      expect(codeOf(() => verify(token, { audience } as never))).toBe('ERR_OPTIONS_INVALID')
    }
  })

  test('"invalid token" cannot be parsed', () => {
    const err = errorOf(() => verify('invalid token', aud))
    expect(err.code).toBe('ERR_JWT_SVID_MALFORMED')
    expect(err.message).toMatch(/^jwtsvid: unable to parse JWT token/)
  })

  test('HS256 is refused before anything else', () => {
    const secret = createSecretKey(Buffer.from('a shared secret of 32 bytes.....'))
    const token = signJws({ alg: 'HS256', typ: 'JWT', kid: 'authority1' }, claims(), secret)
    const err = errorOf(() => verify(token, aud))
    expect(err.code).toBe('ERR_JWT_SVID_ALG_NOT_ALLOWED')
    expect(err.message).toMatch(/^jwtsvid: unable to parse JWT token/)
  })

  test('no sub', () => {
    const err = errorOf(() => verify(es384(claims({ sub: undefined })), aud))
    expect(err.code).toBe('ERR_JWT_SVID_SUB_MISSING')
    expect(err.message).toBe('jwtsvid: token missing subject claim')
  })

  test('no exp', () => {
    const err = errorOf(() => verify(es384(claims({ exp: undefined })), aud))
    expect(err.code).toBe('ERR_JWT_SVID_EXP_MISSING')
    expect(err.message).toBe('jwtsvid: token missing exp claim')
  })

  test('exp one minute ago (the default skew is 60 s)', () => {
    const err = errorOf(() => verify(es384(claims({ exp: nowSeconds() - 60 })), aud))
    expect(err.code).toBe('ERR_JWT_SVID_EXPIRED')
    expect(err.message).toBe('jwtsvid: token has expired')
  })

  test('aud ["audience"], expected ["another"]', () => {
    const err = errorOf(() => verify(es384(claims()), { audience: ['another'] }))
    expect(err.code).toBe('ERR_JWT_SVID_AUDIENCE_MISMATCH')
    expect(err.message).toBe('jwtsvid: expected audience in ["another"] (audience=["audience"])')
  })

  test('sub "invalid subject"', () => {
    const err = errorOf(() => verify(es384(claims({ sub: 'invalid subject' })), aud))
    expect(err.code).toBe('ERR_JWT_SVID_SUB_INVALID')
    expect(err.message).toBe('jwtsvid: token has an invalid subject claim: scheme is missing or invalid')
  })

  test('no kid', () => {
    const err = errorOf(() => verify(es384(claims(), { kid: undefined }), aud))
    expect(err.code).toBe('ERR_JWT_SVID_KID_MISSING')
    expect(err.message).toBe('jwtsvid: token header missing key id')
  })

  test('sub in another.domain: no bundle', () => {
    const err = errorOf(() => verify(es384(claims({ sub: 'spiffe://another.domain/host' })), aud))
    expect(err.code).toBe('ERR_JWT_SVID_NO_BUNDLE')
    expect(err.message).toBe('jwtsvid: no bundle found for trust domain "another.domain"')
  })

  test('kid "noKey"', () => {
    const err = errorOf(() => verify(es384(claims(), { kid: 'noKey' }), aud))
    expect(err.code).toBe('ERR_JWT_SVID_KEY_NOT_FOUND')
    expect(err.message).toBe('jwtsvid: no JWT authority "noKey" found for trust domain "trustdomain"')
  })

  test('signed by key2 (RSA) with kid authority1 (EC P-384): refused before the signature check', () => {
    const token = signJws({ alg: 'RS256', typ: 'JWT', kid: 'authority1' }, claims(), key2.privateKey)
    expect(codeOf(() => verify(token, aud))).toBe('ERR_JWT_SVID_KEY_ALG_MISMATCH')
  })

  test('signed by another P-384 key with kid authority1: bad signature', async () => {
    const other = await generateTestKeyPair('ec-p384')
    const token = signJws({ alg: 'ES384', typ: 'JWT', kid: 'authority1' }, claims(), other.privateKey)
    const err = errorOf(() => verify(token, aud))
    expect(err.code).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
    expect(err).toBeInstanceOf(JwtSvidError)
  })

  test('typ "invalid"', () => {
    const err = errorOf(() => verify(es384(claims(), { typ: 'invalid' }), aud))
    expect(err.code).toBe('ERR_JWT_SVID_TYP_INVALID')
    expect(err.message).toBe('jwtsvid: token header type not equal to either JWT or JOSE')
  })
})

describe('verifyJwtSvid: stricter than go-spiffe', () => {
  const aud = { audience: 'audience' }
  const verify = (token: string, opts: VerifyJwtSvidOptions = aud): JwtSvid =>
    verifyJwtSvid(token, bundles, opts)

  test('aud missing or empty', () => {
    expect(codeOf(() => verify(es384(claims({ aud: undefined }))))).toBe('ERR_JWT_SVID_AUD_MISSING')
    expect(codeOf(() => verify(es384(claims({ aud: [] }))))).toBe('ERR_JWT_SVID_AUD_MISSING')
  })

  test('aud of the wrong type', () => {
    expect(codeOf(() => verify(es384(claims({ aud: 42 }))))).toBe('ERR_JWT_SVID_CLAIM_INVALID')
    expect(codeOf(() => verify(es384(claims({ aud: ['audience', 1] }))))).toBe('ERR_JWT_SVID_CLAIM_INVALID')
    expect(codeOf(() => verify(es384(claims({ aud: null }))))).toBe('ERR_JWT_SVID_CLAIM_INVALID')
  })

  test('aud as a single string, and any-of over several expected audiences', () => {
    expect(verify(es384(claims({ aud: 'audience' }))).audience).toEqual(['audience'])
    const multi = es384(claims({ aud: ['a', 'b'] }))
    expect(verify(multi, { audience: ['x', 'b'] }).audience).toEqual(['a', 'b'])
    expect(codeOf(() => verify(multi, { audience: ['x', 'y'] }))).toBe('ERR_JWT_SVID_AUDIENCE_MISMATCH')
    expect(errorOf(() => verify(multi, { audience: ['x', 'y'] })).message).toBe(
      'jwtsvid: expected audience in ["x" "y"] (audience=["a" "b"])',
    )
  })

  test('audience values in messages are quoted and truncated', () => {
    const long = 'z'.repeat(500)
    const many = Array.from({ length: 20 }, (_, i) => `aud-${i}`)
    const err = errorOf(() => verify(es384(claims({ aud: [long, ...many] }))))
    expect(err.code).toBe('ERR_JWT_SVID_AUDIENCE_MISMATCH')
    expect(err.message.length).toBeLessThan(300)
    expect(err.message).toContain('more)')
  })

  test('typ: absent, JWT and JOSE pass; anything else fails', () => {
    expect(codeOf(() => verify(es384(claims(), { typ: undefined })))).toBe('OK')
    expect(codeOf(() => verify(es384(claims(), { typ: 'JOSE' })))).toBe('OK')
    for (const typ of ['jwt', 'application/jwt', 'JWT ', '', null, 1, ['JWT']]) {
      expect(codeOf(() => verify(es384(claims(), { typ })))).toBe('ERR_JWT_SVID_TYP_INVALID')
    }
  })

  test('any crit is refused (svidkit understands no JWS extension)', () => {
    for (const crit of [['exp'], ['b64'], [], 'x', [1], ['x']]) {
      const header = Array.isArray(crit) && crit[0] === 'x' ? { crit, x: 1 } : { crit }
      expect(codeOf(() => verify(es384(claims(), header)))).toBe('ERR_JWT_SVID_CRIT_UNSUPPORTED')
    }
  })

  test('JWS JSON serialization is refused', () => {
    const compact = es384(claims())
    const [h, p, s] = compact.split('.')
    for (const json of [
      JSON.stringify({ payload: p, protected: h, signature: s }),
      JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] }),
      `  ${JSON.stringify({ payload: p, protected: h, signature: s })}`,
    ]) {
      const err = errorOf(() => verify(json))
      expect(err.code).toBe('ERR_JWT_SVID_MALFORMED')
      expect(err.message).toContain('JSON serialization')
    }
  })

  test('oversized tokens are refused before parsing; the limit is configurable', () => {
    const token = es384(claims({ padding: 'x'.repeat(9000) }))
    expect(codeOf(() => verify(token))).toBe('ERR_JWT_SVID_TOO_LARGE')
    expect(codeOf(() => verify(token, { ...aud, maxTokenBytes: 64 * 1024 }))).toBe('OK')
    const small = es384(claims())
    expect(codeOf(() => verify(small, { ...aud, maxTokenBytes: small.length }))).toBe('OK')
    expect(codeOf(() => verify(small, { ...aud, maxTokenBytes: small.length - 1 }))).toBe(
      'ERR_JWT_SVID_TOO_LARGE',
    )
    expect(codeOf(() => verify('x'.repeat(10_000_000)))).toBe('ERR_JWT_SVID_TOO_LARGE')
  })

  test('alg none, HS*, EdDSA, ES256K, unknown, missing or lowercase: refused first', async () => {
    const ed = await generateTestKeyPair('ed25519')
    const hmacKey = createSecretKey(Buffer.from('a shared secret of 32 bytes.....'))
    const cases: [Record<string, unknown>, KeyObject | undefined][] = [
      [{ alg: 'none' }, undefined],
      [{ alg: 'None' }, undefined],
      [{ alg: 'HS256' }, hmacKey],
      [{ alg: 'HS512' }, hmacKey],
      [{ alg: 'EdDSA' }, ed.privateKey],
      [{ alg: 'ES256K' }, key1.privateKey],
      [{ alg: 'es384' }, key1.privateKey],
      [{ alg: 'RSA-OAEP' }, key1.privateKey],
      [{ alg: undefined }, key1.privateKey],
      [{ alg: ['ES384'] }, key1.privateKey],
    ]
    for (const [h, key] of cases) {
      // Other header faults too: alg must be reported first.
      const header = { kid: 'authority1', typ: 'bogus', crit: ['zzz'], ...h }
      const token = signJws(header, { nothing: true }, key)
      expect([JSON.stringify(h), codeOf(() => verify(token))]).toEqual([
        JSON.stringify(h),
        'ERR_JWT_SVID_ALG_NOT_ALLOWED',
      ])
    }
    const edCa = await TestCA.create({ trustDomain: 'trustdomain', jwtKeyType: 'ed25519' })
    const edToken = await edCa.mintJwtSvid({ subject: '/host', audience: 'audience' })
    expect(codeOf(() => verifyJwtSvid(edToken, edCa.bundleSet(), aud))).toBe('ERR_JWT_SVID_ALG_NOT_ALLOWED')
  })

  test('alg / key mismatch', async () => {
    const p256 = await generateTestKeyPair('ec-p256')
    const p521 = await generateTestKeyPair('ec-p521')
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const set = new BundleSet([
      JwtBundle.fromKeys('trustdomain', {
        p256: p256.publicKey,
        p384: key1.publicKey,
        p521: p521.publicKey,
        rsa: key2.publicKey,
        rsa1024: rsa1024.publicKey,
      }),
    ])
    const c = claims()
    const cases: [string, string, KeyObject, string][] = [
      ['ES256', 'p384', key1.privateKey, 'ERR_JWT_SVID_KEY_ALG_MISMATCH'], // curve differs from alg
      ['ES384', 'p256', p256.privateKey, 'ERR_JWT_SVID_KEY_ALG_MISMATCH'],
      ['ES512', 'p384', key1.privateKey, 'ERR_JWT_SVID_KEY_ALG_MISMATCH'],
      ['ES256', 'rsa', key2.privateKey, 'ERR_JWT_SVID_KEY_ALG_MISMATCH'],
      ['RS256', 'p256', key2.privateKey, 'ERR_JWT_SVID_KEY_ALG_MISMATCH'],
      ['PS256', 'p256', key2.privateKey, 'ERR_JWT_SVID_KEY_ALG_MISMATCH'],
      ['RS256', 'rsa1024', rsa1024.privateKey, 'ERR_JWT_SVID_KEY_ALG_MISMATCH'],
      ['ES256', 'p256', p256.privateKey, 'OK'],
      ['ES384', 'p384', key1.privateKey, 'OK'],
      ['ES512', 'p521', p521.privateKey, 'OK'],
      ['RS256', 'rsa', key2.privateKey, 'OK'],
      ['RS384', 'rsa', key2.privateKey, 'OK'],
      ['RS512', 'rsa', key2.privateKey, 'OK'],
      ['PS256', 'rsa', key2.privateKey, 'OK'],
      ['PS384', 'rsa', key2.privateKey, 'OK'],
      ['PS512', 'rsa', key2.privateKey, 'OK'],
    ]
    for (const [alg, kid, key, code] of cases) {
      const token = signJws({ alg, kid, typ: 'JWT' }, c, key)
      expect([alg, kid, codeOf(() => verifyJwtSvid(token, set, aud))]).toEqual([alg, kid, code])
    }
  })

  test('PS256 is not RS256: a PKCS#1 v1.5 signature under a PS256 header fails, and the reverse', () => {
    const c = claims()
    const rs = signJws({ alg: 'RS256', kid: 'authority2' }, c, key2.privateKey).split('.')
    const ps = signJws({ alg: 'PS256', kid: 'authority2' }, c, key2.privateKey).split('.')
    const psHeaderRsSig = `${ps[0]}.${ps[1]}.${rs[2]}`
    const rsHeaderPsSig = `${rs[0]}.${rs[1]}.${ps[2]}`
    expect(codeOf(() => verify(psHeaderRsSig))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
    expect(codeOf(() => verify(rsHeaderPsSig))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
  })

  test('TestCA tokens: ES256, ES384, ES512, RS256, RS512, and PS256 by hand', async () => {
    for (const [jwtKeyType, alg] of [
      ['ec-p256', undefined],
      ['ec-p384', undefined],
      ['ec-p521', undefined],
      ['rsa-2048', undefined],
      ['rsa-2048', 'RS512'],
      ['rsa-3072', 'PS256'],
    ] as const) {
      const ca = await TestCA.create({ trustDomain: 'example.org', jwtKeyType })
      const token = await ca.mintJwtSvid({ subject: '/ns/prod/sa/web', audience: 'orders', alg })
      const svid = verifyJwtSvid(token, ca.bundleSet(), { audience: 'orders' })
      expect([jwtKeyType, alg, svid.id.toString()]).toEqual([
        jwtKeyType,
        alg,
        'spiffe://example.org/ns/prod/sa/web',
      ])
    }
  })

  test('nbf and iat in the future beyond the skew are refused; within it they pass', () => {
    const now = nowSeconds()
    expect(codeOf(() => verify(es384(claims({ nbf: now + 120 }))))).toBe('ERR_JWT_SVID_NOT_YET_VALID')
    expect(codeOf(() => verify(es384(claims({ nbf: now + 30 }))))).toBe('OK')
    expect(codeOf(() => verify(es384(claims({ iat: now + 120, exp: now + 600 }))))).toBe(
      'ERR_JWT_SVID_ISSUED_IN_FUTURE',
    )
    expect(codeOf(() => verify(es384(claims({ iat: now + 30 }))))).toBe('OK')
    expect(codeOf(() => verify(es384(claims({ nbf: now + 30 })), { ...aud, clockSkewSeconds: 0 }))).toBe(
      'ERR_JWT_SVID_NOT_YET_VALID',
    )
  })

  test('skew edges: valid while at < exp + skew, at ≥ nbf − skew, iat ≤ at + skew', () => {
    const base = 2_000_000_000
    const token = es384({
      sub: 'spiffe://trustdomain/host',
      aud: 'audience',
      nbf: base,
      iat: base,
      exp: base + 300,
    })
    const at = (ms: number, clockSkewSeconds?: number): string =>
      codeOf(() => verify(token, { ...aud, at: new Date(ms), clockSkewSeconds }))
    const exp = (base + 300) * 1000
    const nbf = base * 1000
    expect(at(exp + 60_000 - 1)).toBe('OK')
    expect(at(exp + 60_000)).toBe('ERR_JWT_SVID_EXPIRED')
    expect(at(exp - 1, 0)).toBe('OK')
    expect(at(exp, 0)).toBe('ERR_JWT_SVID_EXPIRED')
    expect(at(exp + 5_000 - 1, 5)).toBe('OK')
    expect(at(exp + 5_000, 5)).toBe('ERR_JWT_SVID_EXPIRED')
    expect(at(nbf - 60_000)).toBe('OK')
    expect(at(nbf - 60_000 - 1)).toBe('ERR_JWT_SVID_NOT_YET_VALID')
    expect(at(nbf, 0)).toBe('OK')
    expect(at(nbf - 1, 0)).toBe('ERR_JWT_SVID_NOT_YET_VALID')
    const iatOnly = es384({ sub: 'spiffe://trustdomain/host', aud: 'audience', iat: base, exp: base + 300 })
    const atIat = (ms: number): string => codeOf(() => verify(iatOnly, { ...aud, at: new Date(ms) }))
    expect(atIat(nbf - 60_000)).toBe('OK')
    expect(atIat(nbf - 60_000 - 1)).toBe('ERR_JWT_SVID_ISSUED_IN_FUTURE')
  })

  test('fractional NumericDates are honoured; non-numbers and out-of-range values are invalid claims', () => {
    const base = 2_000_000_000
    const token = es384({ sub: 'spiffe://trustdomain/host', aud: 'audience', exp: base + 0.5 })
    expect(
      codeOf(() => verify(token, { ...aud, at: new Date(base * 1000 + 499), clockSkewSeconds: 0 })),
    ).toBe('OK')
    expect(
      codeOf(() => verify(token, { ...aud, at: new Date(base * 1000 + 500), clockSkewSeconds: 0 })),
    ).toBe('ERR_JWT_SVID_EXPIRED')
    for (const bad of ['2000000000', null, true, [1], { n: 1 }, 1e300, -1e300]) {
      for (const claim of ['exp', 'nbf', 'iat']) {
        expect([claim, bad, codeOf(() => verify(es384(claims({ [claim]: bad }))))]).toEqual([
          claim,
          bad,
          'ERR_JWT_SVID_CLAIM_INVALID',
        ])
      }
    }
  })

  test('sub that is not a string, or not a SPIFFE ID', () => {
    for (const sub of [1, null, ['spiffe://trustdomain/host'], { id: 1 }]) {
      expect(codeOf(() => verify(es384(claims({ sub }))))).toBe('ERR_JWT_SVID_SUB_INVALID')
    }
    for (const sub of [
      'spiffe://TrustDomain/host',
      'spiffe://trustdomain/a/',
      'spiffe://trustdomain/../x',
      '',
    ]) {
      expect(codeOf(() => verify(es384(claims({ sub }))))).toBe('ERR_JWT_SVID_SUB_INVALID')
    }
  })

  test('kid that is empty or not a string', () => {
    expect(codeOf(() => verify(es384(claims(), { kid: '' })))).toBe('ERR_JWT_SVID_KID_MISSING')
    expect(codeOf(() => verify(es384(claims(), { kid: 1 })))).toBe('ERR_JWT_SVID_MALFORMED')
  })

  test('the key is looked up only in the bundle of sub’s trust domain', async () => {
    const caA = await TestCA.create({ trustDomain: 'a.test' })
    const caB = await TestCA.create({ trustDomain: 'b.test' })
    const both = new BundleSet([caA.jwtBundle(), caB.jwtBundle()])
    // td B's CA signs a token for a td A identity, with td B's kid: td A's bundle has no such kid.
    const forged = await caB.mintJwtSvid({ subject: 'spiffe://a.test/workload', audience: 'audience' })
    expect(codeOf(() => verifyJwtSvid(forged, both, aud))).toBe('ERR_JWT_SVID_KEY_NOT_FOUND')
    // Even when td A's bundle holds the same kid (for its own key), td B's key is never used.
    const keyA = await generateTestKeyPair('ec-p256')
    const keyB = await generateTestKeyPair('ec-p256')
    const sameKid = new BundleSet([
      JwtBundle.fromKeys('a.test', { shared: keyA.publicKey }),
      JwtBundle.fromKeys('b.test', { shared: keyB.publicKey }),
    ])
    const c = { ...claims(), sub: 'spiffe://a.test/workload' }
    const byB = signJws({ alg: 'ES256', kid: 'shared' }, c, keyB.privateKey)
    expect(codeOf(() => verifyJwtSvid(byB, sameKid, aud))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
    const byA = signJws({ alg: 'ES256', kid: 'shared' }, c, keyA.privateKey)
    expect(codeOf(() => verifyJwtSvid(byA, sameKid, aud))).toBe('OK')
    // A single JwtBundle is a source for its own trust domain only.
    expect(
      codeOf(() => verifyJwtSvid(byA, JwtBundle.fromKeys('b.test', { shared: keyA.publicKey }), aud)),
    ).toBe('ERR_JWT_SVID_NO_BUNDLE')
  })

  test('tampering: payload, header or signature changed', () => {
    const token = es384(claims())
    const [h, p, s] = token.split('.') as [string, string, string]
    const otherPayload = b64(claims({ sub: 'spiffe://trustdomain/admin' }))
    expect(codeOf(() => verify(`${h}.${otherPayload}.${s}`))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
    const otherHeader = b64({ alg: 'ES384', kid: 'authority1' })
    expect(codeOf(() => verify(`${otherHeader}.${p}.${s}`))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
    const sig = Buffer.from(s, 'base64url')
    sig[10] = sig[10]! ^ 1
    expect(codeOf(() => verify(`${h}.${p}.${sig.toString('base64url')}`))).toBe(
      'ERR_JWT_SVID_SIGNATURE_INVALID',
    )
    expect(codeOf(() => verify(`${h}.${p}.${s.slice(0, -4)}`))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
    expect(codeOf(() => verify(`${h}.${p}.`))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
    // A DER signature where P1363 is expected.
    expect(codeOf(() => verify(`${h}.${p}.${Buffer.alloc(104, 0x30).toString('base64url')}`))).toBe(
      'ERR_JWT_SVID_SIGNATURE_INVALID',
    )
  })

  test('malformed compact serializations', () => {
    const token = es384(claims())
    const [h, p, s] = token.split('.') as [string, string, string]
    const cases = [
      '',
      '.',
      '..',
      `${h}.${p}`,
      `${h}..${s}`,
      `.${p}.${s}`,
      `${h}.${p}.${s}.`,
      `${h}.${p}.${s}.${s}.${s}`, // JWE has five segments
      `${h}=.${p}.${s}`,
      `${h}.${p}.${s}==`,
      `${h}.${p.slice(0, 10)}+${p.slice(11)}.${s}`,
      `${h}.${p.slice(0, 10)}/${p.slice(11)}.${s}`,
      `${h}.${p.slice(0, 10)}*${p.slice(11)}.${s}`,
      `${h}.${p.slice(0, 10)} ${p.slice(11)}.${s}`,
      `${h}.${p.slice(0, 10)}é${p.slice(11)}.${s}`,
      ` ${token}`,
      `${token}\n`,
      `Bearer ${token}`,
      `${h}.${p}x.${s}`, // 4k+1 length
      `${b64('not json')}.${p}.${s}`,
      `${b64('[1,2]')}.${p}.${s}`,
      `${b64('null')}.${p}.${s}`,
      `${h}.${b64('"str"')}.${s}`,
      `${h}.${b64('{"sub":')}.${s}`,
    ]
    for (const c of cases) expect([c, codeOf(() => verify(c))]).toEqual([c, 'ERR_JWT_SVID_MALFORMED'])
    for (const c of [undefined, null, 1, {}, Buffer.from(token)]) {
      expect(codeOf(() => verify(c as never))).toBe('ERR_JWT_SVID_MALFORMED')
    }
  })

  test('the result is deeply frozen and its dates are read-only', () => {
    const svid = verify(es384(claims({ nested: { list: [{ a: 1 }] } })))
    expect(Object.isFrozen(svid)).toBe(true)
    expect(Object.isFrozen(svid.claims)).toBe(true)
    expect(Object.isFrozen(svid.audience)).toBe(true)
    const nested = svid.claims.nested as { list: { a: number }[] }
    expect(Object.isFrozen(nested)).toBe(true)
    expect(Object.isFrozen(nested.list)).toBe(true)
    expect(Object.isFrozen(nested.list[0])).toBe(true)
    expect(svid.expiresAt).toBeInstanceOf(Date)
    const exp = svid.expiresAt.getTime()
    expect(() => svid.expiresAt.setTime(0)).toThrow(TypeError)
    expect(() => svid.expiresAt.setFullYear(1999)).toThrow(TypeError)
    expect(() => svid.issuedAt?.setUTCHours(0)).toThrow(TypeError)
    expect(svid.expiresAt.getTime()).toBe(exp)
    expect(svid.expiresAt.toISOString()).toBe(new Date(exp).toISOString())
    expect(() => {
      ;(svid as { token: string }).token = 'x'
    }).toThrow(TypeError)
  })

  test('deeply nested claims are frozen all the way down, without recursion limits', () => {
    const depth = 20_000
    // JSON.stringify is recursive and would overflow first: build the payload text by hand.
    const payload = `${JSON.stringify(claims()).slice(0, -1)},"nested":${'['.repeat(depth)}{"leaf":true}${']'.repeat(depth)}}`
    const token = es384(payload)
    const svid = verify(token, { ...aud, maxTokenBytes: 1024 * 1024 })
    let node: unknown = svid.claims.nested
    for (let i = 0; i < depth; i++) {
      expect(Object.isFrozen(node)).toBe(true)
      node = (node as unknown[])[0]
    }
    expect(node).toEqual({ leaf: true })
    expect(Object.isFrozen(node)).toBe(true)
  })

  test('messages never contain the token or its segments', () => {
    const token = es384(claims({ aud: ['audience'] }))
    const [h, p, s] = token.split('.') as [string, string, string]
    const failing = [
      `${h}.${p}.${s.slice(0, -4)}`,
      `${h}.${p}`,
      token,
      es384(claims({ exp: 1 })),
      es384(claims(), { kid: 'nope' }),
    ]
    for (const t of failing) {
      const err = errorOf(() => verifyJwtSvid(t, bundles, { audience: 'other' }))
      for (const part of t.split('.')) if (part.length > 8) expect(err.message).not.toContain(part)
      expect(JSON.stringify(err)).not.toContain(s)
    }
  })

  test('a polluted Object.prototype cannot supply exp, aud or kid', () => {
    const proto = Object.prototype as Record<string, unknown>
    try {
      proto.exp = nowSeconds() + 3600
      proto.aud = 'audience'
      proto.kid = 'authority1'
      expect(codeOf(() => verify(es384(claims({ exp: undefined }))))).toBe('ERR_JWT_SVID_EXP_MISSING')
      expect(codeOf(() => verify(es384(claims({ aud: undefined }))))).toBe('ERR_JWT_SVID_AUD_MISSING')
      expect(codeOf(() => verify(es384(claims(), { kid: undefined })))).toBe('ERR_JWT_SVID_KID_MISSING')
    } finally {
      delete proto.exp
      delete proto.aud
      delete proto.kid
    }
  })

  test('options are validated', () => {
    const token = es384(claims())
    expect(codeOf(() => verifyJwtSvid(token, undefined as never, aud))).toBe('ERR_OPTIONS_INVALID')
    expect(codeOf(() => verifyJwtSvid(token, {} as never, aud))).toBe('ERR_OPTIONS_INVALID')
    expect(codeOf(() => verifyJwtSvid(token, bundles, undefined as never))).toBe('ERR_OPTIONS_INVALID')
    for (const bad of [
      { clockSkewSeconds: -1 },
      { clockSkewSeconds: Number.NaN },
      { clockSkewSeconds: '60' },
      { maxTokenBytes: 0 },
      { maxTokenBytes: 1.5 },
      { at: new Date(Number.NaN) },
      { at: 12345 },
    ]) {
      const err = errorOf(() => verifyJwtSvid(token, bundles, { ...aud, ...bad } as never))
      expect(err).toBeInstanceOf(OptionsError)
    }
  })

  test('duplicate JSON members resolve to the last one', () => {
    const header = b64({ alg: 'ES384', kid: 'authority1' })
    const c = claims()
    const payloadText = `{"sub":"spiffe://trustdomain/admin",${JSON.stringify(c).slice(1)}`
    const unsigned = `${header}.${Buffer.from(payloadText).toString('base64url')}`
    const signed = signJws({ alg: 'ES384', kid: 'authority1' }, c, key1.privateKey)
    // Sign the exact bytes with the duplicate member.
    const sig = sign('sha384', Buffer.from(unsigned), { key: key1.privateKey, dsaEncoding: 'ieee-p1363' })
    const token = `${unsigned}.${sig.toString('base64url')}`
    expect(verify(token).id.toString()).toBe('spiffe://trustdomain/host')
    expect(verify(signed).id.toString()).toBe('spiffe://trustdomain/host')
  })
})
