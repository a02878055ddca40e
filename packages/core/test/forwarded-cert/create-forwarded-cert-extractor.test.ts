import type { X509Certificate } from 'node:crypto'
import { BundleSet, type X509Bundle, type X509BundleSource } from '@svidkit/core/bundle'
import { createForwardedCertExtractor, type ForwardedCertOptions } from '@svidkit/core/forwarded-cert'
import { matchId, SpiffeId, type TrustDomain } from '@svidkit/core/spiffe-id'
import { codeOf, TestCA } from '@svidkit/testing'
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest'

const b64 = (c: X509Certificate): string => c.raw.toString('base64')
const sf = (c: X509Certificate): string => `:${b64(c)}:`

let ca: TestCA
let other: TestCA
let bundles: BundleSet
let leaf: X509Certificate
let inter: X509Certificate
let direct: X509Certificate
let forged: X509Certificate

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'a.test' })
  other = await TestCA.create({ trustDomain: 'a.test' })
  bundles = new BundleSet([ca.x509Bundle()])
  const intermediate = await ca.createIntermediate()
  const s = await intermediate.issueX509Svid({ id: '/web' })
  leaf = s.certificates[0]!
  inter = s.certificates[1]!
  direct = (await ca.issueX509Svid({ id: '/batch', ttlSeconds: 120 })).certificates[0]!
  forged = (await other.issueX509Svid({ id: '/web' })).certificates[0]!
})

afterEach(() => {
  vi.useRealTimers()
})

const loopback = { peerAddress: '::ffff:127.0.0.1' }

describe('createForwardedCertExtractor', () => {
  test('RFC 9440 with a chain: verified caller, certificate, path and expiry', () => {
    const x = createForwardedCertExtractor({ format: 'rfc9440', bundles })
    const r = x.extract({ header: sf(leaf), chainHeader: sf(inter), ...loopback })
    expect(r?.caller.toString()).toBe('spiffe://a.test/web')
    expect(r?.certificate.fingerprint256).toBe(leaf.fingerprint256)
    expect(r?.chain.map((c) => c.fingerprint256)).toEqual([
      leaf.fingerprint256,
      inter.fingerprint256,
      ca.certificate.fingerprint256,
    ])
    expect(r?.expiresAt).toBeInstanceOf(Date)
    expect(x.preset.header).toBe('client-cert')
  })

  test('without the chain header the leaf cannot reach the root', () => {
    const x = createForwardedCertExtractor({ format: 'rfc9440', bundles })
    expect(codeOf(() => x.extract({ header: sf(leaf), ...loopback }))).toBe('ERR_X509_SVID_UNTRUSTED')
  })

  test('nginx, HAProxy and Traefik', () => {
    expect(
      createForwardedCertExtractor({ format: 'nginx', bundles })
        .extract({ header: encodeURIComponent(direct.toString()), ...loopback })
        ?.caller.toString(),
    ).toBe('spiffe://a.test/batch')
    expect(
      createForwardedCertExtractor({ format: 'haproxy', bundles })
        .extract({ header: b64(leaf), chainHeader: b64(inter), ...loopback })
        ?.caller.toString(),
    ).toBe('spiffe://a.test/web')
    expect(
      createForwardedCertExtractor({ format: 'traefik-v3', bundles })
        .extract({ header: [b64(leaf), b64(inter)], chainHeader: 'ignored', ...loopback })
        ?.caller.toString(),
    ).toBe('spiffe://a.test/web')
  })

  test('a certificate from another CA fails verification', () => {
    const x = createForwardedCertExtractor({ format: 'haproxy', bundles })
    expect(codeOf(() => x.extract({ header: b64(forged), ...loopback }))).toBe('ERR_X509_SVID_UNTRUSTED')
  })

  test('malformed input', () => {
    const x = createForwardedCertExtractor({ format: 'haproxy', bundles })
    expect(codeOf(() => x.extract({ header: 'not base64!', ...loopback }))).toBe(
      'ERR_FORWARDED_CERT_MALFORMED',
    )
    expect(codeOf(() => x.extract({ header: 'A'.repeat(20000), ...loopback }))).toBe(
      'ERR_FORWARDED_CERT_MALFORMED',
    )
  })

  test('no header, or an empty one (Cloudflare without a client certificate), is no caller', () => {
    const x = createForwardedCertExtractor({ format: 'rfc9440', bundles })
    expect(x.extract({ header: undefined, ...loopback })).toBeUndefined()
    expect(x.extract({ header: '', ...loopback })).toBeUndefined()
    expect(x.extract({ header: [], ...loopback })).toBeUndefined()
    expect(x.extract({ header: undefined, peerAddress: '10.0.0.1' })).toBeUndefined()
  })
})

describe('createForwardedCertExtractor: trusted peers', () => {
  test('reject (default) and ignore', () => {
    const reject = createForwardedCertExtractor({ format: 'haproxy', bundles })
    const ignore = createForwardedCertExtractor({ format: 'haproxy', bundles, untrustedPeer: 'ignore' })
    expect(codeOf(() => reject.extract({ header: b64(direct), peerAddress: '10.0.0.1' }))).toBe(
      'ERR_FORWARDED_CERT_UNTRUSTED_PEER',
    )
    expect(ignore.extract({ header: b64(direct), peerAddress: '10.0.0.1' })).toBeUndefined()
    expect(ignore.extract({ header: b64(direct), peerAddress: '127.0.0.1' })?.caller.toString()).toBe(
      'spiffe://a.test/batch',
    )
  })

  test('untrusted peers are refused before anything is decoded', () => {
    const x = createForwardedCertExtractor({ format: 'haproxy', bundles })
    expect(codeOf(() => x.extract({ header: 'garbage', peerAddress: '192.0.2.1' }))).toBe(
      'ERR_FORWARDED_CERT_UNTRUSTED_PEER',
    )
  })

  test('CIDRs and the proxy SPIFFE ID, as for XFCC', () => {
    const x = createForwardedCertExtractor({
      format: 'haproxy',
      bundles,
      trustedPeers: { addresses: ['10.0.0.0/8'], spiffeId: matchId('spiffe://a.test/lb') },
    })
    expect(x.extract({ header: b64(direct), peerAddress: '10.1.2.3' })).toBeDefined()
    expect(
      x.extract({
        header: b64(direct),
        peerAddress: '192.0.2.1',
        peerSpiffeId: SpiffeId.parse('spiffe://a.test/lb'),
      }),
    ).toBeDefined()
    expect(codeOf(() => x.extract({ header: b64(direct), peerAddress: '127.0.0.1' }))).toBe(
      'ERR_FORWARDED_CERT_UNTRUSTED_PEER',
    )
  })
})

describe('createForwardedCertExtractor: verification cache', () => {
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

  test('a repeated header is verified once; the same text as lines is the same key', () => {
    const source = counting(bundles)
    const x = createForwardedCertExtractor({ format: 'traefik-v3', bundles: source })
    const a = x.extract({ header: `${b64(leaf)},${b64(inter)}`, ...loopback })
    expect(source.calls).toBe(2)
    const b = x.extract({ header: `${b64(leaf)},${b64(inter)}`, ...loopback })
    expect(source.calls).toBe(3)
    expect(b?.certificate).toBe(a?.certificate)
    x.extract({ header: [b64(leaf), b64(inter)], ...loopback }) // different text: verified again
    expect(source.calls).toBe(5)
  })

  test('the chain header is part of the key', () => {
    const x = createForwardedCertExtractor({ format: 'rfc9440', bundles })
    expect(x.extract({ header: sf(leaf), chainHeader: sf(inter), ...loopback })).toBeDefined()
    expect(codeOf(() => x.extract({ header: sf(leaf), ...loopback }))).toBe('ERR_X509_SVID_UNTRUSTED')
  })

  test('a rotated bundle drops cached results; expiry too', () => {
    const set = new BundleSet([ca.x509Bundle()])
    const x = createForwardedCertExtractor({ format: 'haproxy', bundles: set })
    expect(x.extract({ header: b64(direct), ...loopback })).toBeDefined()
    set.add(other.x509Bundle())
    expect(codeOf(() => x.extract({ header: b64(direct), ...loopback }))).toBe('ERR_X509_SVID_UNTRUSTED')
    set.add(ca.x509Bundle())
    expect(x.extract({ header: b64(direct), ...loopback })).toBeDefined()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date(direct.validTo).getTime() + 1000)
    expect(codeOf(() => x.extract({ header: b64(direct), ...loopback }))).toBe('ERR_X509_SVID_EXPIRED')
  })
})

describe('createForwardedCertExtractor: options', () => {
  test.each<[string, unknown]>([
    ['not an object', null],
    ['no format', { bundles: new BundleSet() }],
    ['unknown format', { format: 'envoy', bundles: new BundleSet() }],
    ['no bundles', { format: 'nginx' }],
    ['bundles not a source', { format: 'nginx', bundles: {} }],
    ['untrustedPeer', { format: 'nginx', bundles: new BundleSet(), untrustedPeer: 'drop' }],
    ['trustedPeers', { format: 'nginx', bundles: new BundleSet(), trustedPeers: { addresses: ['x'] } }],
    ['maxLength', { format: 'nginx', bundles: new BundleSet(), maxLength: -5 }],
    [
      'clockSkewSeconds',
      { format: 'nginx', bundles: new BundleSet(), clockSkewSeconds: Number.POSITIVE_INFINITY },
    ],
    ['cacheSize', { format: 'nginx', bundles: new BundleSet(), cacheSize: -1 }],
  ])('%s', (_name, options) => {
    expect(codeOf(() => createForwardedCertExtractor(options as ForwardedCertOptions))).toBe(
      'ERR_OPTIONS_INVALID',
    )
  })
})
