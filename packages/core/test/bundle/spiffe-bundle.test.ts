import {
  BundleSet,
  JwtBundle,
  marshalBundleMap,
  parseBundleDocument,
  parseBundleMap,
  SpiffeBundle,
  X509Bundle,
} from '@svidkit/core/bundle'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { codeOf, TestCA } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'

let ca: TestCA
let other: TestCA
let x5c: string
let jwk: Record<string, unknown>

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  other = await TestCA.create({ trustDomain: 'other.org', jwtKeyType: 'rsa-2048' })
  x5c = ca.certificate.raw.toString('base64')
  jwk = { ...ca.jwtBundle().toJwks().keys[0]! }
})

const doc = (keys: unknown[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ ...extra, keys })

describe('SpiffeBundle.parse (Trust Domain and Bundle §4)', () => {
  test('X.509 and JWT authorities, refresh hint, sequence', () => {
    const b = SpiffeBundle.parse(
      'example.org',
      doc(
        [
          { use: 'x509-svid', kty: 'EC', x5c: [x5c] },
          { ...jwk, use: 'jwt-svid' },
        ],
        {
          spiffe_refresh_hint: 60,
          spiffe_sequence: 1,
        },
      ),
    )
    expect(b.trustDomain.name).toBe('example.org')
    expect(b.x509Authorities).toHaveLength(1)
    expect(b.jwtAuthorities.size).toBe(1)
    expect(b.refreshHintSeconds).toBe(60)
    expect(b.sequenceNumber).toBe(1n)
  })

  test('spiffe_sequence stays exact beyond 2^53 and round-trips', () => {
    const text = '{"spiffe_sequence":18446744073709551615,"keys":[]}'
    const b = SpiffeBundle.parse('example.org', text)
    expect(b.sequenceNumber).toBe(18446744073709551615n)
    expect(b.toJson()).toContain('"spiffe_sequence":18446744073709551615')
    expect(SpiffeBundle.parse('example.org', b.toJson()).sequenceNumber).toBe(18446744073709551615n)
    expect(
      codeOf(() => SpiffeBundle.parse('example.org', '{"spiffe_sequence":18446744073709551616,"keys":[]}')),
    ).toBe('ERR_BUNDLE_MALFORMED')
    expect(codeOf(() => SpiffeBundle.parse('example.org', '{"spiffe_sequence":-1,"keys":[]}'))).toBe(
      'ERR_BUNDLE_MALFORMED',
    )
    expect(codeOf(() => SpiffeBundle.parse('example.org', '{"spiffe_refresh_hint":1.5,"keys":[]}'))).toBe(
      'ERR_BUNDLE_MALFORMED',
    )
  })

  test('empty keys = trust nothing; missing keys is malformed (go: "no authorities found")', () => {
    const b = SpiffeBundle.parse('example.org', '{"keys":[]}')
    expect(b.x509Bundle().isEmpty).toBe(true)
    expect(b.jwtBundle().isEmpty).toBe(true)
    expect(
      codeOf(() => SpiffeBundle.parse('example.org', '{"spiffe_refresh_hint":60,"spiffe_sequence":1}')),
    ).toBe('ERR_BUNDLE_MALFORMED')
  })

  test('unknown kty and unknown or missing use are ignored (spec), not fatal', () => {
    const b = SpiffeBundle.parse(
      'example.org',
      doc([
        { use: 'jwt-svid', kty: 'oct', kid: 'sym', k: 'AAAA' },
        { use: 'jwt-svid', kty: 'FOO', kid: 'x' },
        { use: 'wit-svid', kty: 'EC', kid: 'wit' },
        { use: 'something-else', kty: 'EC' },
        { kty: 'EC', kid: 'nouse' },
        { ...jwk, use: 'jwt-svid' },
      ]),
    )
    expect([...b.jwtAuthorities.keys()]).toEqual([jwk.kid])
  })

  test('x509-svid entries: no x5c ignored, several x5c uses the first (spec; go-spiffe errors)', () => {
    const b = SpiffeBundle.parse(
      'example.org',
      doc([
        { use: 'x509-svid', kty: 'EC' },
        { use: 'x509-svid', kty: 'EC', x5c: [] },
        { use: 'x509-svid', kty: 'EC', x5c: [x5c, other.certificate.raw.toString('base64')] },
      ]),
    )
    expect(b.x509Authorities).toHaveLength(1)
    expect(b.x509Authorities[0]!.fingerprint256).toBe(ca.certificate.fingerprint256)
  })

  test('a jwt-svid key without kid is an error (go-spiffe: keyID cannot be empty)', () => {
    const { kid: _kid, ...noKid } = jwk
    expect(codeOf(() => SpiffeBundle.parse('example.org', doc([{ ...noKid, use: 'jwt-svid' }])))).toBe(
      'ERR_BUNDLE_AUTHORITY_INVALID',
    )
    try {
      SpiffeBundle.parse('example.org', doc([{ ...noKid, use: 'jwt-svid' }]))
    } catch (err) {
      expect((err as Error).message).toBe('bundle: error adding authority 0 of JWKS: keyID cannot be empty')
    }
  })

  test.each([
    ['not JSON', 'nope'],
    ['an array', '[]'],
    ['keys not an array', '{"keys":{}}'],
    ['a key that is not an object', '{"keys":[1]}'],
    ['bad x5c', '{"keys":[{"use":"x509-svid","kty":"EC","x5c":["!!"]}]}'],
    ['x5c not DER', '{"keys":[{"use":"x509-svid","kty":"EC","x5c":["AAAA"]}]}'],
    ['bad EC key', '{"keys":[{"use":"jwt-svid","kty":"EC","kid":"k","crv":"P-256","x":"AA","y":"AA"}]}'],
  ])('%s is refused with a typed error', (_n, text) => {
    expect(codeOf(() => SpiffeBundle.parse('example.org', text))).toMatch(/^ERR_BUNDLE_/)
  })

  test('private key members are never kept', () => {
    const b = SpiffeBundle.parse(
      'example.org',
      doc([{ ...ca.jwtPrivateKey.export({ format: 'jwk' }), kid: 'k', use: 'jwt-svid' }]),
    )
    expect(b.jwtAuthorities.get('k')!.jwk).not.toHaveProperty('d')
    expect(b.toJson()).not.toContain('"d"')
  })

  test('marshal then parse gives an equal bundle', () => {
    const b = ca.spiffeBundle({ refreshHintSeconds: 300, sequenceNumber: 7n })
    const again = SpiffeBundle.parse('example.org', b.toJson())
    expect(again.equals(b)).toBe(true)
    const keys = JSON.parse(b.toJson()).keys as { use: string; kid?: string; x5c?: string[] }[]
    expect(keys.find((k) => k.use === 'x509-svid')).toMatchObject({ x5c: [x5c] })
    expect(keys.find((k) => k.use === 'x509-svid')).not.toHaveProperty('kid')
    expect(keys.find((k) => k.use === 'jwt-svid')?.kid).toBe(ca.jwtKeyId)
  })
})

describe('bundle maps (§5)', () => {
  test('parse and marshal', () => {
    const set = parseBundleMap(marshalBundleMap(new BundleSet([ca.spiffeBundle(), other.spiffeBundle()])))
    expect(set.trustDomains().map(String)).toEqual(['example.org', 'other.org'])
    expect(set.getJwtBundleForTrustDomain(TrustDomain.parse('other.org'))?.authorities.size).toBe(1)
  })

  test('duplicate trust domain keys are rejected', () => {
    const b = ca.spiffeBundle().toJson()
    expect(codeOf(() => parseBundleMap(`{"trust_domains":{"example.org":${b},"example.org":${b}}}`))).toBe(
      'ERR_BUNDLE_DUPLICATE_KEY',
    )
    expect(codeOf(() => parseBundleMap(`{"trust_domains":{"example.org":${b}},"trust_domains":{}}`))).toBe(
      'ERR_BUNDLE_DUPLICATE_KEY',
    )
  })

  test('atomic: one bad bundle fails the whole map; keys must be trust domain names', () => {
    const b = ca.spiffeBundle().toJson()
    expect(codeOf(() => parseBundleMap(`{"trust_domains":{"example.org":${b},"bad.org":{}}}`))).toBe(
      'ERR_BUNDLE_MALFORMED',
    )
    expect(codeOf(() => parseBundleMap(`{"trust_domains":{"Bad Name":${b}}}`))).toBe('ERR_BUNDLE_MALFORMED')
    expect(codeOf(() => parseBundleMap('{"domains":{}}'))).toBe('ERR_BUNDLE_MALFORMED')
  })
})

describe('X.509 and JWT bundles', () => {
  test('PEM and concatenated DER', () => {
    const pem = ca.x509Bundle().toPem() + other.x509Bundle().toPem()
    expect(X509Bundle.fromPem('example.org', pem).authorities).toHaveLength(2)
    expect(
      X509Bundle.fromDer('example.org', Buffer.concat([ca.certificate.raw, other.certificate.raw]))
        .authorities,
    ).toHaveLength(2)
    expect(X509Bundle.fromDer('example.org', new Uint8Array()).isEmpty).toBe(true)
    expect(codeOf(() => X509Bundle.fromPem('example.org', 'no pem here'))).toBe('ERR_BUNDLE_MALFORMED')
    expect(codeOf(() => X509Bundle.fromDer('example.org', Buffer.from([0x30, 0x82, 0xff])))).toBe(
      'ERR_BUNDLE_MALFORMED',
    )
    expect(codeOf(() => X509Bundle.fromDer('example.org', Buffer.from([0x02, 0x01, 0x00])))).toBe(
      'ERR_BUNDLE_MALFORMED',
    )
  })

  test('a bundle answers only for its own trust domain', () => {
    const b = ca.x509Bundle()
    expect(b.getX509BundleForTrustDomain(TrustDomain.parse('example.org'))).toBe(b)
    expect(b.getX509BundleForTrustDomain(TrustDomain.parse('other.org'))).toBeUndefined()
  })

  test('JwtBundle.fromJwks (Workload API) ignores use but needs kid', () => {
    const b = JwtBundle.fromJwks('other.org', JSON.stringify(other.jwtBundle().toJwks()))
    expect(b.findAuthority(other.jwtKeyId)?.publicKey.asymmetricKeyType).toBe('rsa')
    expect(codeOf(() => JwtBundle.fromJwks('other.org', '{"keys":[{"kty":"EC","crv":"P-256"}]}'))).toBe(
      'ERR_BUNDLE_AUTHORITY_INVALID',
    )
  })
})

describe('BundleSet: federation without merging', () => {
  test('lookups never cross trust domains; replacing a part replaces the object', () => {
    const set = new BundleSet([ca.spiffeBundle(), other.x509Bundle()])
    const td = TrustDomain.parse('other.org')
    expect(set.getX509BundleForTrustDomain(td)?.authorities[0]?.fingerprint256).toBe(
      other.certificate.fingerprint256,
    )
    expect(set.getJwtBundleForTrustDomain(td)).toBeUndefined()
    const before = set.getJwtBundleForTrustDomain(TrustDomain.parse('example.org'))
    set.add(ca.jwtBundle())
    expect(set.getJwtBundleForTrustDomain(TrustDomain.parse('example.org'))).not.toBe(before)
    expect(set.remove('other.org')).toBe(true)
    expect(set.has('other.org')).toBe(false)
    expect(set.size).toBe(1)
  })

  test('SpiffeBundle.from refuses to merge two trust domains', () => {
    expect(codeOf(() => SpiffeBundle.from({ x509: ca.x509Bundle(), jwt: other.jwtBundle() }))).toBe(
      'ERR_BUNDLE_TRUST_DOMAIN_MISMATCH',
    )
  })
})

describe('parseBundleDocument', () => {
  test('detects PEM, SPIFFE bundle and bundle map', () => {
    expect(parseBundleDocument(ca.x509Bundle().toPem(), { trustDomain: 'example.org' }).format).toBe('pem')
    expect(parseBundleDocument(ca.spiffeBundle().toJson(), { trustDomain: 'example.org' }).format).toBe(
      'spiffe-bundle',
    )
    const map = marshalBundleMap(new BundleSet([ca.spiffeBundle()]))
    expect(parseBundleDocument(map).format).toBe('bundle-map')
    expect(codeOf(() => parseBundleDocument(ca.spiffeBundle().toJson()))).toBe(
      'ERR_BUNDLE_TRUST_DOMAIN_MISMATCH',
    )
    expect(codeOf(() => parseBundleDocument(ca.x509Bundle().toPem()))).toBe(
      'ERR_BUNDLE_TRUST_DOMAIN_MISMATCH',
    )
    expect(codeOf(() => parseBundleDocument(map, { trustDomain: 'nope.org' }))).toBe(
      'ERR_BUNDLE_TRUST_DOMAIN_MISMATCH',
    )
    expect(codeOf(() => parseBundleDocument(''))).toBe('ERR_BUNDLE_MALFORMED')
    expect(codeOf(() => parseBundleDocument('{"keys":[]} trailing'))).toBe('ERR_BUNDLE_MALFORMED')
  })
})
