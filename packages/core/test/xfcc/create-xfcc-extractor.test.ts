import { createHash, type X509Certificate } from 'node:crypto'
import { BundleSet, type X509Bundle, type X509BundleSource } from '@svidkit/core/bundle'
import { matchAny, matchId, type TrustDomain } from '@svidkit/core/spiffe-id'
import { createXfccExtractor, formatXfcc, type XfccElement, type XfccOptions } from '@svidkit/core/xfcc'
import { codeOf, TestCA, type TestX509Svid } from '@svidkit/testing'
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { envoyUrlEncode } from './helpers.js'

const peer = { peerAddress: '127.0.0.1' }

describe('createXfccExtractor: selection and By', () => {
  test('returns the caller and the element of the last element', () => {
    const x = createXfccExtractor({ by: 'spiffe://a.test/api' })
    const r = x.extract({
      header:
        'By=spiffe://a.test/gw;URI=spiffe://a.test/admin,By=spiffe://a.test/api;Hash=ab;URI=spiffe://a.test/web',
      ...peer,
    })
    expect(r?.caller.toString()).toBe('spiffe://a.test/web')
    expect(r?.element.hash).toEqual(['ab'])
    expect(r?.certificate).toBeUndefined()
    expect(r?.expiresAt).toBeUndefined()
  })

  test('errors propagate with their codes', () => {
    const x = createXfccExtractor({ by: 'spiffe://a.test/api' })
    expect(
      codeOf(() => x.extract({ header: 'By=spiffe://a.test/other;URI=spiffe://a.test/web', ...peer })),
    ).toBe('ERR_XFCC_BY_MISMATCH')
    expect(codeOf(() => x.extract({ header: 'By=spiffe://a.test/api', ...peer }))).toBe('ERR_XFCC_NO_URI')
    expect(codeOf(() => x.extract({ header: 'By=spiffe://a.test/api;URI="', ...peer }))).toBe(
      'ERR_XFCC_MALFORMED',
    )
  })

  test('a blank header from a trusted peer is no caller', () => {
    const x = createXfccExtractor()
    expect(x.extract({ header: '  ', ...peer })).toBeUndefined()
    expect(x.extract({ header: ['', ' '], ...peer })).toBeUndefined()
  })

  test('an empty header from an untrusted peer is no header either, as a string or as lines (issue 16)', () => {
    // Was ERR_XFCC_UNTRUSTED_PEER for [''] (the lines form every adapter passes) but absent for ''.
    const x = createXfccExtractor({ trustedPeers: { addresses: ['10.0.0.1'] } })
    const untrusted = { peerAddress: '127.0.0.1' }
    for (const header of ['', ' \t', [''], ['', ' '], []]) {
      expect(x.extract({ header, ...untrusted }), JSON.stringify(header)).toBeUndefined()
    }
    expect(codeOf(() => x.extract({ header: ['', 'URI=spiffe://a.test/x'], ...untrusted }))).toBe(
      'ERR_XFCC_UNTRUSTED_PEER',
    )
  })

  test('trustedHops > 1 needs trustedProxies (explicitly matchAny to trust any)', () => {
    expect(codeOf(() => createXfccExtractor({ trustedHops: 2 }))).toBe('ERR_OPTIONS_INVALID')
    const x = createXfccExtractor({ trustedHops: 2, trustedProxies: matchId('spiffe://a.test/gw') })
    const h = 'By=spiffe://a.test/gw;URI=spiffe://a.test/client,By=spiffe://a.test/api;URI=spiffe://a.test/gw'
    expect(x.extract({ header: h, ...peer })?.caller.toString()).toBe('spiffe://a.test/client')
    expect(codeOf(() => x.extract({ header: 'URI=spiffe://a.test/gw', ...peer }))).toBe('ERR_XFCC_HOPS')
    expect(createXfccExtractor({ trustedHops: 2, trustedProxies: matchAny() })).toBeDefined()
  })

  test('repeated headers give the same frozen result', () => {
    const x = createXfccExtractor()
    const header = 'By=spiffe://a.test/api;URI=spiffe://a.test/web'
    const a = x.extract({ header, ...peer })
    const b = x.extract({ header: `${header}`, ...peer })
    const c = x.extract({ header: [header], ...peer })
    expect(b?.caller).toBe(a?.caller)
    expect(c?.element).toBe(a?.element)
    expect(Object.isFrozen(a)).toBe(true)
    expect(Object.isFrozen(a?.element)).toBe(true)
    expect(Object.isFrozen(a?.element.uri)).toBe(true)
    expect(() => {
      ;(a!.element.uri as string[]).push('spiffe://a.test/admin')
    }).toThrow(TypeError)
  })

  test('the memo never hides a different header or a failure', () => {
    const x = createXfccExtractor({ by: 'spiffe://a.test/api' })
    for (let i = 0; i < 100; i++) {
      const header = `By=spiffe://a.test/api;URI=spiffe://a.test/w${i % 40}`
      expect(x.extract({ header, ...peer })?.caller.toString()).toBe(`spiffe://a.test/w${i % 40}`)
      expect(
        codeOf(() => x.extract({ header: `By=spiffe://a.test/x;URI=spiffe://a.test/w${i % 40}`, ...peer })),
      ).toBe('ERR_XFCC_BY_MISMATCH')
    }
  })

  test.each<[string, XfccOptions]>([
    ['options not an object', 'x' as never],
    ['maxLength', { maxLength: 0 }],
    ['certCheck unknown', { certCheck: 'always' as never }],
    ['certCheck without bundles', { certCheck: 'if-present' }],
    ['certCheck required without bundles', { certCheck: 'required' }],
    ['bundles not a source', { bundles: {} as never }],
    ['clockSkewSeconds', { clockSkewSeconds: -1 }],
    ['cacheSize', { cacheSize: 1.5 }],
    ['by', { by: 'spiffe://a.test/' }],
  ])('invalid %s', (_name, options) => {
    expect(codeOf(() => createXfccExtractor(options))).toBe('ERR_OPTIONS_INVALID')
  })
})

describe('createXfccExtractor: Cert, Chain and Hash', () => {
  let ca: TestCA
  let other: TestCA
  let bundles: BundleSet
  let svid: TestX509Svid
  let leafPem: string
  let hash: string

  beforeAll(async () => {
    ca = await TestCA.create({ trustDomain: 'a.test' })
    other = await TestCA.create({ trustDomain: 'a.test' })
    bundles = new BundleSet([ca.x509Bundle()])
    svid = await ca.issueX509Svid({ id: '/web' })
    leafPem = svid.certificates[0]!.toString()
    hash = sha256(svid.certificates[0]!)
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  const sha256 = (cert: X509Certificate): string => createHash('sha256').update(cert.raw).digest('hex')
  const header = (el: XfccElement): string => formatXfcc([{ by: ['spiffe://a.test/api'], ...el }])

  test('a valid Cert: verified, cross-checked, returned', () => {
    const x = createXfccExtractor({ bundles })
    const r = x.extract({
      header: header({ hash: [hash], uri: ['spiffe://a.test/web'], cert: [envoyUrlEncode(leafPem)] }),
      ...peer,
    })
    expect(r?.caller.toString()).toBe('spiffe://a.test/web')
    expect(r?.certificate?.fingerprint256).toBe(svid.certificates[0]!.fingerprint256)
    expect(r?.expiresAt?.getTime()).toBe(new Date(svid.certificates[0]!.validTo).getTime())
  })

  test('Hash is compared case-insensitively; without Hash only URI is checked', () => {
    const x = createXfccExtractor({ bundles })
    const cert = [envoyUrlEncode(leafPem)]
    expect(
      x.extract({
        header: header({ hash: [hash.toUpperCase()], uri: ['spiffe://a.test/web'], cert }),
        ...peer,
      }),
    ).toBeDefined()
    expect(x.extract({ header: header({ uri: ['spiffe://a.test/web'], cert }), ...peer })).toBeDefined()
  })

  test('any percent-encoding of the PEM decodes (lowercase hex, nginx-style full escaping)', () => {
    const x = createXfccExtractor({ bundles })
    const h = header({
      uri: ['spiffe://a.test/web'],
      cert: [encodeURIComponent(leafPem).replace(/%0A/g, '%0a')],
    })
    expect(x.extract({ header: h, ...peer })?.caller.toString()).toBe('spiffe://a.test/web')
  })

  test('Chain alone (leaf first, with an intermediate)', async () => {
    const inter = await ca.createIntermediate()
    const s = await inter.issueX509Svid({ id: '/batch' })
    expect(s.certificates).toHaveLength(2)
    const x = createXfccExtractor({ bundles })
    const chain = envoyUrlEncode(s.certificatesPem)
    const r = x.extract({ header: header({ uri: ['spiffe://a.test/batch'], chain: [chain] }), ...peer })
    expect(r?.caller.toString()).toBe('spiffe://a.test/batch')
    expect(r?.certificate?.fingerprint256).toBe(s.certificates[0]!.fingerprint256)
    // Cert + Chain together, Chain starting with Cert.
    const cert = envoyUrlEncode(s.certificates[0]!.toString())
    expect(
      x.extract({
        header: header({ uri: ['spiffe://a.test/batch'], cert: [cert], chain: [chain] }),
        ...peer,
      }),
    ).toBeDefined()
    // Cert alone cannot reach the root.
    expect(
      codeOf(() => x.extract({ header: header({ uri: ['spiffe://a.test/batch'], cert: [cert] }), ...peer })),
    ).toBe('ERR_X509_SVID_UNTRUSTED')
  })

  test.each<[string, () => XfccElement, string]>([
    [
      'URI differs from the certificate',
      () => ({ uri: ['spiffe://a.test/admin'], cert: [envoyUrlEncode(leafPem)] }),
      'ERR_XFCC_CERT_MISMATCH',
    ],
    [
      'Hash differs from the certificate',
      () => ({ hash: ['00'.repeat(32)], uri: ['spiffe://a.test/web'], cert: [envoyUrlEncode(leafPem)] }),
      'ERR_XFCC_CERT_MISMATCH',
    ],
    [
      'Chain does not start with Cert',
      () => ({
        uri: ['spiffe://a.test/web'],
        cert: [envoyUrlEncode(leafPem)],
        chain: [envoyUrlEncode(other.certificate.toString())],
      }),
      'ERR_XFCC_CERT_MISMATCH',
    ],
    [
      'Cert with two certificates',
      () => ({ uri: ['spiffe://a.test/web'], cert: [envoyUrlEncode(leafPem + leafPem)] }),
      'ERR_XFCC_CERT_INVALID',
    ],
    ['Cert not PEM', () => ({ uri: ['spiffe://a.test/web'], cert: ['abcde='] }), 'ERR_XFCC_CERT_INVALID'],
    ['Cert empty', () => ({ uri: ['spiffe://a.test/web'], cert: [''] }), 'ERR_XFCC_CERT_INVALID'],
    [
      'Cert with a bad percent-escape',
      () => ({ uri: ['spiffe://a.test/web'], cert: ['%ZZ'] }),
      'ERR_XFCC_CERT_INVALID',
    ],
    [
      'Cert with garbage base64',
      () => ({
        uri: ['spiffe://a.test/web'],
        cert: [envoyUrlEncode('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')],
      }),
      'ERR_XFCC_CERT_INVALID',
    ],
    [
      'Cert with text around the block',
      () => ({ uri: ['spiffe://a.test/web'], cert: [envoyUrlEncode(`junk ${leafPem}`)] }),
      'ERR_XFCC_CERT_INVALID',
    ],
    [
      'Cert of a private key block',
      () => ({ uri: ['spiffe://a.test/web'], cert: [envoyUrlEncode(svid.privateKeyPem)] }),
      'ERR_XFCC_CERT_INVALID',
    ],
  ])('%s', (_name, el, code) => {
    const x = createXfccExtractor({ bundles })
    expect(codeOf(() => x.extract({ header: header(el()), ...peer }))).toBe(code)
  })

  test('a certificate from another CA fails X.509-SVID verification', async () => {
    const forged = await other.issueX509Svid({ id: '/web' })
    const x = createXfccExtractor({ bundles })
    const h = header({
      uri: ['spiffe://a.test/web'],
      cert: [envoyUrlEncode(forged.certificates[0]!.toString())],
    })
    expect(codeOf(() => x.extract({ header: h, ...peer }))).toBe('ERR_X509_SVID_UNTRUSTED')
  })

  test('an expired certificate fails, within clockSkewSeconds it passes', async () => {
    const now = Date.now()
    const old = await ca.issueX509Svid({
      id: '/web',
      notBefore: new Date(now - 7200_000),
      notAfter: new Date(now - 30_000),
    })
    const h = header({
      uri: ['spiffe://a.test/web'],
      cert: [envoyUrlEncode(old.certificates[0]!.toString())],
    })
    expect(codeOf(() => createXfccExtractor({ bundles }).extract({ header: h, ...peer }))).toBe(
      'ERR_X509_SVID_EXPIRED',
    )
    expect(
      createXfccExtractor({ bundles, clockSkewSeconds: 60 }).extract({ header: h, ...peer }),
    ).toBeDefined()
  })

  test('certCheck: required needs a Cert; off ignores it; if-present is the default with bundles', () => {
    const noCert = header({ uri: ['spiffe://a.test/web'] })
    const badCert = header({ uri: ['spiffe://a.test/web'], cert: ['nonsense'] })
    expect(
      codeOf(() =>
        createXfccExtractor({ bundles, certCheck: 'required' }).extract({ header: noCert, ...peer }),
      ),
    ).toBe('ERR_XFCC_CERT_REQUIRED')
    expect(createXfccExtractor({ bundles }).extract({ header: noCert, ...peer })).toBeDefined()
    expect(codeOf(() => createXfccExtractor({ bundles }).extract({ header: badCert, ...peer }))).toBe(
      'ERR_XFCC_CERT_INVALID',
    )
    expect(
      createXfccExtractor({ bundles, certCheck: 'off' }).extract({ header: badCert, ...peer }),
    ).toBeDefined()
    expect(createXfccExtractor().extract({ header: badCert, ...peer })?.certificate).toBeUndefined()
  })

  test('Cert is checked on the selected element only', () => {
    const x = createXfccExtractor({ bundles, certCheck: 'required' })
    const h = formatXfcc([
      { uri: ['spiffe://a.test/old'], cert: ['nonsense'] },
      { by: ['spiffe://a.test/api'], uri: ['spiffe://a.test/web'], cert: [envoyUrlEncode(leafPem)] },
    ])
    expect(x.extract({ header: h, ...peer })?.caller.toString()).toBe('spiffe://a.test/web')
  })

  describe('the verified-certificate cache', () => {
    /** A bundle source that counts lookups: a cache miss looks up twice (verify + remember), a hit once. */
    function counting(inner: X509BundleSource): X509BundleSource & { calls: number } {
      const source = {
        calls: 0,
        getX509BundleForTrustDomain(td: TrustDomain): X509Bundle | undefined {
          source.calls++
          return inner.getX509BundleForTrustDomain(td)
        },
      }
      return source
    }
    const valid = (): string =>
      header({ hash: [hash], uri: ['spiffe://a.test/web'], cert: [envoyUrlEncode(leafPem)] })

    test('a repeated Cert is verified once', () => {
      const source = counting(bundles)
      const x = createXfccExtractor({ bundles: source })
      x.extract({ header: valid(), ...peer })
      expect(source.calls).toBe(2)
      x.extract({ header: valid(), ...peer })
      x.extract({ header: valid(), ...peer })
      expect(source.calls).toBe(4)
    })

    test('cacheSize 0 verifies every time', () => {
      const source = counting(bundles)
      const x = createXfccExtractor({ bundles: source, cacheSize: 0 })
      x.extract({ header: valid(), ...peer })
      x.extract({ header: valid(), ...peer })
      expect(source.calls).toBe(2)
    })

    test('a cached result still goes through the URI and Hash cross-checks', () => {
      const x = createXfccExtractor({ bundles })
      const cert = [envoyUrlEncode(leafPem)]
      expect(x.extract({ header: header({ uri: ['spiffe://a.test/web'], cert }), ...peer })).toBeDefined()
      expect(
        codeOf(() => x.extract({ header: header({ uri: ['spiffe://a.test/admin'], cert }), ...peer })),
      ).toBe('ERR_XFCC_CERT_MISMATCH')
      expect(
        codeOf(() =>
          x.extract({ header: header({ hash: ['ff'], uri: ['spiffe://a.test/web'], cert }), ...peer }),
        ),
      ).toBe('ERR_XFCC_CERT_MISMATCH')
    })

    test('a new bundle object for the trust domain drops the cached result', () => {
      const set = new BundleSet([ca.x509Bundle()])
      const x = createXfccExtractor({ bundles: set })
      expect(x.extract({ header: valid(), ...peer })).toBeDefined()
      set.add(other.x509Bundle()) // rotation to a bundle that no longer holds our CA
      expect(codeOf(() => x.extract({ header: valid(), ...peer }))).toBe('ERR_X509_SVID_UNTRUSTED')
      set.add(ca.x509Bundle())
      expect(x.extract({ header: valid(), ...peer })).toBeDefined()
    })

    test('a cached result expires with the certificate', async () => {
      const short = await ca.issueX509Svid({ id: '/web', ttlSeconds: 60 })
      const h = header({
        uri: ['spiffe://a.test/web'],
        cert: [envoyUrlEncode(short.certificates[0]!.toString())],
      })
      const x = createXfccExtractor({ bundles })
      expect(x.extract({ header: h, ...peer })).toBeDefined()
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(short.expiresAt.getTime() + 1000)
      expect(codeOf(() => x.extract({ header: h, ...peer }))).toBe('ERR_X509_SVID_EXPIRED')
    })

    test('the cache is bounded', () => {
      const source = counting(bundles)
      const x = createXfccExtractor({ bundles: source, cacheSize: 1 })
      const a = valid()
      const b = header({
        uri: ['spiffe://a.test/web'],
        cert: [envoyUrlEncode(leafPem).replace(/%0A/g, '%0a')],
      })
      x.extract({ header: a, ...peer }) // miss: 2
      x.extract({ header: b, ...peer }) // miss, evicts a: 4
      x.extract({ header: b, ...peer }) // hit: 5
      x.extract({ header: a, ...peer }) // miss again: 7
      expect(source.calls).toBe(7)
    })
  })
})

describe('the memo of recent headers', () => {
  const header = (i: number) =>
    `By=spiffe://a.test/api;Hash=${i.toString(16).padStart(64, '0')};URI=spiffe://a.test/client-${i % 7}`
  test('a repeated header gives the same frozen result; a stream of new headers stays correct', () => {
    const x = createXfccExtractor({ by: 'spiffe://a.test/api' })
    const copy = (s: string) => Buffer.from(s, 'latin1').toString('latin1')
    const first = x.extract({ header: copy(header(1)), peerAddress: '127.0.0.1' })
    expect(x.extract({ header: copy(header(1)), peerAddress: '127.0.0.1' })).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
    // Thousands of distinct headers: the memo stops hitting, pauses itself, and every answer stays right.
    for (let i = 2; i < 6000; i++) {
      const r = x.extract({ header: copy(header(i)), peerAddress: '127.0.0.1' })
      expect(r?.caller.toString()).toBe(`spiffe://a.test/client-${i % 7}`)
    }
    // After the pause, a repeated header is remembered again.
    const again = () => x.extract({ header: copy(header(1)), peerAddress: '127.0.0.1' })
    for (let i = 0; i < 4096 + 256; i++) again()
    expect(again()).toBe(again())
  })
})
