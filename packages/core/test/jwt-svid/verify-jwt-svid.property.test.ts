import { BundleSet, JwtBundle } from '@svidkit/core/bundle'
import { SvidkitError } from '@svidkit/core/errors'
import {
  createJwtSvidVerifier,
  type JwtSvid,
  parseJwtSvidInsecure,
  verifyJwtSvid,
} from '@svidkit/core/jwt-svid'
import { generateTestKeyPair, type TestKeyPair } from '@svidkit/testing'
import fc from 'fast-check'
import { beforeAll, describe, expect, test } from 'vitest'
import { b64, nowSeconds, signJws } from './helpers.js'

let key: TestKeyPair
let bundles: BundleSet
let valid: string

beforeAll(async () => {
  key = await generateTestKeyPair('ec-p256')
  bundles = new BundleSet([JwtBundle.fromKeys('example.org', { k1: key.publicKey })])
  valid = signJws(
    { alg: 'ES256', kid: 'k1', typ: 'JWT' },
    { sub: 'spiffe://example.org/w', aud: ['api'], exp: nowSeconds() + 3600, iat: nowSeconds() },
    key.privateKey,
  )
})

/** Runs every entry point; each either returns a JwtSvid or throws a SvidkitError, nothing else. */
function assertOnlySvidkitErrors(token: unknown): void {
  const verifier = createJwtSvidVerifier({ bundles, audience: 'api' })
  const calls: [boolean, () => JwtSvid][] = [
    [true, () => verifyJwtSvid(token as string, bundles, { audience: 'api' })],
    [true, () => verifier.verify(token as string)],
    [true, () => verifier.verify(token as string)], // a second time: the cache path
    [false, () => parseJwtSvidInsecure(token as string)],
  ]
  for (const [verified, call] of calls) {
    try {
      const svid = call()
      // Only a verified token is known to come from the one trusted key (td example.org).
      if (verified) expect(svid.id.toString()).toBe('spiffe://example.org/w')
      expect(Object.isFrozen(svid.claims)).toBe(true)
    } catch (err) {
      if (!(err instanceof SvidkitError)) throw err
      expect(err.code).toMatch(/^ERR_JWT_SVID_/)
      expect(err.message).toMatch(/^jwtsvid: /)
    }
  }
}

const segment = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') }),
  fc.string(),
  fc.jsonValue().map((v) => b64(JSON.stringify(v) ?? 'null')),
)

const headerValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('ES256', 'RS256', 'PS512', 'none', 'HS256', 'EdDSA', 'JWT', 'JOSE', 'k1', ['k1'], []),
)
const header = fc.record(
  {
    alg: headerValue,
    kid: headerValue,
    typ: headerValue,
    crit: headerValue,
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
)
const claimValue = fc.oneof(
  fc.jsonValue(),
  fc.integer({ min: 0, max: 4_000_000_000 }),
  fc.double(),
  fc.constantFrom(
    'spiffe://example.org/w',
    'spiffe://other.test/w',
    'api',
    ['api'],
    [],
    'spiffe://EXAMPLE.org/w',
  ),
)
const payload = fc.record(
  { sub: claimValue, aud: claimValue, exp: claimValue, nbf: claimValue, iat: claimValue, x: fc.jsonValue() },
  { requiredKeys: [] },
)

describe('verification never throws anything but a SvidkitError', () => {
  test('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), assertOnlySvidkitErrors), { numRuns: 300 })
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), assertOnlySvidkitErrors), {
      numRuns: 200,
    })
  })

  test('arbitrary values', () => {
    fc.assert(fc.property(fc.anything(), assertOnlySvidkitErrors), { numRuns: 200 })
  })

  test('three arbitrary segments', () => {
    fc.assert(
      fc.property(segment, segment, segment, (h, p, s) => assertOnlySvidkitErrors(`${h}.${p}.${s}`)),
      { numRuns: 300 },
    )
  })

  test('near-JWS: arbitrary headers and claims, signed or not', () => {
    fc.assert(
      fc.property(header, payload, fc.boolean(), (h, p, signIt) => {
        const alg = h.alg === 'ES256' || !signIt ? h.alg : 'ES256'
        const hdr = { ...h, alg }
        assertOnlySvidkitErrors(
          signIt ? signJws(hdr, p, key.privateKey) : `${b64(hdr)}.${b64(p)}.${b64('sig')}`,
        )
      }),
      { numRuns: 400 },
    )
  })

  test('mutations of a valid token', () => {
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('replace'),
        at: fc.nat(),
        ch: fc.string({ minLength: 1, maxLength: 1 }),
      }),
      fc.record({ kind: fc.constant('insert'), at: fc.nat(), ch: fc.string({ minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('delete'), at: fc.nat(), ch: fc.constant('') }),
      fc.record({ kind: fc.constant('truncate'), at: fc.nat(), ch: fc.constant('') }),
    )
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let t = valid
        for (const m of mutations) {
          const i = m.at % (t.length + 1)
          if (m.kind === 'replace') t = t.slice(0, i) + m.ch + t.slice(i + 1)
          else if (m.kind === 'insert') t = t.slice(0, i) + m.ch + t.slice(i)
          else if (m.kind === 'delete') t = t.slice(0, i) + t.slice(i + 1)
          else t = t.slice(0, i)
        }
        assertOnlySvidkitErrors(t)
      }),
      { numRuns: 500 },
    )
  })

  test('a mutated header or payload never verifies', () => {
    const [h, p, s] = valid.split('.') as [string, string, string]
    fc.assert(
      fc.property(
        fc.nat(),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
        (at, ch) => {
          const signed = `${h}.${p}`
          const i = at % signed.length
          if (signed[i] === ch || signed[i] === '.') return
          const mutated = `${signed.slice(0, i)}${ch}${signed.slice(i + 1)}.${s}`
          let ok = true
          try {
            verifyJwtSvid(mutated, bundles, { audience: 'api' })
          } catch (err) {
            if (!(err instanceof SvidkitError)) throw err
            ok = false
          }
          expect(ok).toBe(false)
        },
      ),
      { numRuns: 300 },
    )
  })
})
