// go-spiffe v2.9.0's jwtsvid.ParseAndValidate applied to JWT-SVIDs minted by @svidkit/testing's
// TestCA (every algorithm JWT-SVID allows, and deliberately broken tokens), next to svidkit's own
// verifyJwtSvid: both must reach the same verdict on every token. The one documented difference is an
// empty expected audience (go-spiffe skips the check; svidkit refuses to verify without one).
import { generateKeyPairSync } from 'node:crypto'
import { verifyJwtSvid } from '@svidkit/core/jwt-svid'
import { TestCA, type TestKeyType } from '@svidkit/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWith } from './harness/env.js'
import { accepted, goVerdict, svidkitVerdict, tamperSignature, withClaims } from './harness/jwt.js'
import { removeTempDir, tempDir } from './harness/processes.js'

const TD = 'example.org'
const SUB = '/ns/prod/sa/web'
const now = (): number => Math.floor(Date.now() / 1000)

describeWith(['goPeer'])('go-spiffe v2.9.0 validates JWT-SVIDs minted by svidkit', () => {
  let dir: string
  const cas = new Map<TestKeyType, TestCA>()

  beforeAll(async () => {
    dir = tempDir('jwt-test')
    for (const keyType of ['ec-p256', 'ec-p384', 'ec-p521', 'rsa-2048', 'ed25519'] as const) {
      cas.set(keyType, await TestCA.create({ trustDomain: TD, jwtKeyType: keyType }))
    }
  })

  afterAll(() => {
    if (dir) removeTempDir(dir)
  })

  const both = async (ca: TestCA, token: string, audience: string | string[]) => ({
    svidkit: svidkitVerdict(token, ca.jwtBundle(), audience),
    go: await goVerdict(dir, TD, ca.spiffeBundle().toJson(), token, audience),
  })

  it.each([
    ['ES256', 'ec-p256'],
    ['ES384', 'ec-p384'],
    ['ES512', 'ec-p521'],
    ['RS256', 'rsa-2048'],
    ['RS384', 'rsa-2048'],
    ['RS512', 'rsa-2048'],
    ['PS256', 'rsa-2048'],
    ['PS384', 'rsa-2048'],
    ['PS512', 'rsa-2048'],
  ] as const)('%s: accepted by both', async (alg, keyType) => {
    const ca = cas.get(keyType)!
    const token = await ca.mintJwtSvid({ subject: SUB, audience: ['orders', 'billing'], alg })
    const v = await both(ca, token, 'billing')
    expect(v).toEqual({ svidkit: 'ok', go: 'ok' })
    expect(verifyJwtSvid(token, ca.jwtBundle(), { audience: 'billing' }).id.toString()).toBe(
      `spiffe://${TD}${SUB}`,
    )
  })

  it('EdDSA (not a JWT-SVID algorithm): refused by both', async () => {
    const ca = cas.get('ed25519')!
    const v = await both(ca, await ca.mintJwtSvid({ subject: SUB, audience: 'orders' }), 'orders')
    expect(v.svidkit).toBe('ERR_JWT_SVID_ALG_NOT_ALLOWED')
    expect(accepted(v.go)).toBe(false)
  })

  it('valid variants and refusals: the same verdict from both on every token', async () => {
    const ca = cas.get('ec-p256')!
    const mint = (o: Partial<Parameters<TestCA['mintJwtSvid']>[0]> = {}) =>
      ca.mintJwtSvid({ subject: SUB, audience: 'orders', ...o })
    const good = await mint()
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    const cases: { name: string; token: string; audience?: string | string[]; valid: boolean }[] = [
      { name: 'valid', token: good, valid: true },
      {
        name: 'aud list, one of the expected audiences',
        token: await mint({ audience: ['a', 'orders'] }),
        audience: ['billing', 'orders'],
        valid: true,
      },
      { name: 'no typ header', token: await mint({ header: { typ: undefined } }), valid: true },
      { name: 'typ JOSE', token: await mint({ header: { typ: 'JOSE' } }), valid: true },
      {
        name: 'expired 30 s ago (inside the 60 s leeway)',
        token: await mint({ issuedAt: new Date(Date.now() - 330_000), ttlSeconds: 300 }),
        valid: true,
      },
      {
        name: 'nbf 30 s ahead (inside the leeway)',
        token: await mint({ notBefore: new Date(Date.now() + 30_000) }),
        valid: true,
      },
      {
        name: 'iat 30 s ahead (inside the leeway)',
        token: await mint({ issuedAt: new Date(Date.now() + 30_000) }),
        valid: true,
      },
      { name: 'wrong audience', token: good, audience: 'billing', valid: false },
      { name: 'tampered signature', token: tamperSignature(good), valid: false },
      { name: 'tampered subject', token: withClaims(good, { sub: `spiffe://${TD}/admin` }), valid: false },
      { name: 'tampered exp', token: withClaims(good, { exp: now() + 86_400 }), valid: false },
      {
        name: 'expired 5 min ago',
        token: await mint({ issuedAt: new Date(Date.now() - 600_000), ttlSeconds: 300 }),
        valid: false,
      },
      {
        name: 'nbf 5 min ahead',
        token: await mint({ notBefore: new Date(Date.now() + 300_000) }),
        valid: false,
      },
      {
        name: 'iat 5 min ahead',
        token: await mint({ issuedAt: new Date(Date.now() + 300_000), ttlSeconds: 600 }),
        valid: false,
      },
      { name: 'no exp', token: await mint({ claims: { exp: undefined } }), valid: false },
      { name: 'no sub', token: await mint({ claims: { sub: undefined } }), valid: false },
      { name: 'sub not a SPIFFE ID', token: await mint({ claims: { sub: 'web' } }), valid: false },
      {
        name: 'sub of a trust domain without a bundle',
        token: await mint({ subject: 'spiffe://other.org/web' }),
        valid: false,
      },
      { name: 'no kid', token: await mint({ header: { kid: undefined } }), valid: false },
      { name: 'unknown kid', token: await mint({ header: { kid: 'nope' } }), valid: false },
      { name: 'signed by another key', token: await mint({ signWith: otherKey }), valid: false },
      { name: 'typ at+jwt', token: await mint({ header: { typ: 'at+jwt' } }), valid: false },
      {
        name: 'alg none',
        token: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${good.split('.')[1]}.`,
        valid: false,
      },
    ]
    const table: Record<string, string>[] = []
    for (const c of cases) {
      const v = await both(ca, c.token, c.audience ?? 'orders')
      table.push({ case: c.name, ...v })
      expect({ case: c.name, svidkit: accepted(v.svidkit), go: accepted(v.go) }).toEqual({
        case: c.name,
        svidkit: c.valid,
        go: c.valid,
      })
    }
    console.table(table)
  })

  it('documented difference: without an expected audience go-spiffe skips the check, svidkit refuses to verify', async () => {
    const ca = cas.get('ec-p256')!
    const token = await ca.mintJwtSvid({ subject: SUB, audience: 'orders' })
    expect(await goVerdict(dir, TD, ca.spiffeBundle().toJson(), token, null)).toBe('ok')
    expect(() => verifyJwtSvid(token, ca.jwtBundle(), { audience: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})
