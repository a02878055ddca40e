import type { X509Certificate } from 'node:crypto'
import { ForwardedCertError } from '@svidkit/core/errors'
import {
  DEFAULT_FORWARDED_CERT_MAX_LENGTH,
  decodeForwardedCert,
  type ForwardedCertFormat,
  forwardedCertPresets,
} from '@svidkit/core/forwarded-cert'
import { verifyX509Svid } from '@svidkit/core/x509-svid'
import { codeOf, TestCA, type TestX509Svid } from '@svidkit/testing'
import fc from 'fast-check'
import { beforeAll, describe, expect, test } from 'vitest'

// Encoders written from each proxy's documented behaviour.
/** nginx `ngx_escape_uri(..., NGX_ESCAPE_URI_COMPONENT)`: everything but `A-Z a-z 0-9 - . _ ~`, uppercase hex. */
const nginxEscape = (s: string): string =>
  s.replace(/[^A-Za-z0-9\-._~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
/** AWS ALB: URL-encoded PEM "with `+=/` as safe characters". */
const albEncode = (s: string): string =>
  nginxEscape(s).replace(/%2B/g, '+').replace(/%3D/g, '=').replace(/%2F/g, '/')
/** Go's `url.QueryEscape` on base64 (no spaces in base64, so the same set as nginx). */
const goQueryEscape = nginxEscape
const b64 = (c: X509Certificate): string => c.raw.toString('base64')
const sf = (c: X509Certificate): string => `:${b64(c)}:`

let ca: TestCA
let svid: TestX509Svid // leaf + intermediate
let leaf: X509Certificate
let inter: X509Certificate

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'a.test' })
  const intermediate = await ca.createIntermediate()
  // Retry until the base64 holds a '+', so the ALB case proves '+' is not form-decoded.
  for (;;) {
    svid = await intermediate.issueX509Svid({ id: '/web' })
    if (b64(svid.certificates[0]!).includes('+')) break
  }
  leaf = svid.certificates[0]!
  inter = svid.certificates[1]!
})

const fingerprints = (certs: X509Certificate[]): string[] => certs.map((c) => c.fingerprint256)

describe('decodeForwardedCert: each preset', () => {
  test.each<[string, ForwardedCertFormat, () => string, (() => string) | undefined, () => X509Certificate[]]>(
    [
      [
        'nginx $ssl_client_escaped_cert',
        'nginx',
        () => nginxEscape(leaf.toString()),
        undefined,
        () => [leaf],
      ],
      [
        'AWS ALB passthrough chain, + = / literal',
        'alb',
        () => albEncode(leaf.toString() + inter.toString()),
        undefined,
        () => [leaf, inter],
      ],
      ['AWS ALB verify-mode leaf', 'alb-leaf', () => albEncode(leaf.toString()), undefined, () => [leaf]],
      [
        'Traefik v2 (query-escaped, comma-separated)',
        'traefik-v2',
        () => `${goQueryEscape(b64(leaf))},${goQueryEscape(b64(inter))}`,
        undefined,
        () => [leaf, inter],
      ],
      [
        'Traefik v3 (raw base64, comma-separated)',
        'traefik-v3',
        () => `${b64(leaf)},${b64(inter)}`,
        undefined,
        () => [leaf, inter],
      ],
      ['HAProxy ssl_c_der,base64', 'haproxy', () => b64(leaf), undefined, () => [leaf]],
      [
        'HAProxy with ssl_c_chain_der,base64',
        'haproxy',
        () => b64(leaf),
        () => Buffer.concat([inter.raw]).toString('base64'),
        () => [leaf, inter],
      ],
      ['RFC 9440 Client-Cert', 'rfc9440', () => sf(leaf), undefined, () => [leaf]],
      ['RFC 9440 with Client-Cert-Chain', 'rfc9440', () => sf(leaf), () => sf(inter), () => [leaf, inter]],
      ['RFC 9440 Cloudflare empty chain', 'rfc9440', () => sf(leaf), () => '', () => [leaf]],
      [
        'RFC 9440 chain that repeats the leaf',
        'rfc9440',
        () => sf(leaf),
        () => `${sf(leaf)}, ${sf(inter)}`,
        () => [leaf, inter],
      ],
      ['RFC 9440 parameters are ignored', 'rfc9440', () => `${sf(leaf)};foo=1;bar`, undefined, () => [leaf]],
      [
        'RFC 9440 missing padding is accepted',
        'rfc9440',
        () => `:${b64(leaf).replace(/=+$/, '')}:`,
        undefined,
        () => [leaf],
      ],
      [
        'nginx chain header in the same encoding',
        'nginx',
        () => nginxEscape(leaf.toString()),
        () => nginxEscape(inter.toString()),
        () => [leaf, inter],
      ],
    ],
  )('%s', (_name, format, value, chain, expected) => {
    const certs = decodeForwardedCert(value(), format, chain ? { chain: chain() } : {})
    expect(fingerprints(certs)).toEqual(fingerprints(expected()))
    // And the decoded chain verifies as an X.509-SVID.
    if (certs.length === 2)
      expect(verifyX509Svid(certs, ca.x509Bundle()).id.toString()).toBe('spiffe://a.test/web')
  })

  test('ALB: form-decoding would have corrupted the value; decodeURIComponent does not', () => {
    const value = albEncode(leaf.toString())
    expect(value).toContain('+')
    const formDecoded = new URLSearchParams(`v=${value}`).get('v')!
    expect(formDecoded).not.toBe(decodeURIComponent(value))
    expect(fingerprints(decodeForwardedCert(value, 'alb-leaf'))).toEqual([leaf.fingerprint256])
  })

  test('Envoy-style partial escaping also decodes as nginx/ALB', () => {
    const envoy = leaf
      .toString()
      .replace(/\n/g, '%0A')
      .replace(/ /g, '%20')
      .replace(/\+/g, '%2B')
      .replace(/\//g, '%2F')
      .replace(/=/g, '%3D')
    expect(fingerprints(decodeForwardedCert(envoy, 'nginx'))).toEqual([leaf.fingerprint256])
  })

  test('header lines: list formats join them, others accept one non-empty line', () => {
    expect(fingerprints(decodeForwardedCert([b64(leaf), b64(inter)], 'traefik-v3'))).toEqual(
      fingerprints([leaf, inter]),
    )
    expect(fingerprints(decodeForwardedCert(`${b64(leaf)}, ${b64(inter)}`, 'traefik-v3'))).toEqual(
      fingerprints([leaf, inter]),
    )
    expect(fingerprints(decodeForwardedCert(['', b64(leaf)], 'haproxy'))).toEqual([leaf.fingerprint256])
    expect(fingerprints(decodeForwardedCert(sf(leaf), 'rfc9440', { chain: [sf(inter)] }))).toEqual(
      fingerprints([leaf, inter]),
    )
  })

  test('presets name the usual headers', () => {
    expect(forwardedCertPresets.rfc9440).toMatchObject({
      header: 'client-cert',
      chainHeader: 'client-cert-chain',
    })
    expect(forwardedCertPresets.alb.header).toBe('x-amzn-mtls-clientcert')
    expect(forwardedCertPresets['alb-leaf'].header).toBe('x-amzn-mtls-clientcert-leaf')
    expect(forwardedCertPresets['traefik-v2'].header).toBe('x-forwarded-tls-client-cert')
    expect(Object.isFrozen(forwardedCertPresets)).toBe(true)
    expect(Object.keys(forwardedCertPresets).sort()).toEqual(
      ['alb', 'alb-leaf', 'haproxy', 'nginx', 'rfc9440', 'traefik-v2', 'traefik-v3'].sort(),
    )
  })
})

describe('decodeForwardedCert: malformed input', () => {
  test.each<[string, ForwardedCertFormat, () => string | string[], (() => string) | undefined]>([
    ['empty', 'nginx', () => '', undefined],
    ['blank', 'haproxy', () => '  ', undefined],
    ['bad percent-escape', 'nginx', () => '%E0%A4%A', undefined],
    ['lone percent', 'alb', () => `${albEncode(leaf.toString())}%`, undefined],
    ['PEM with text around it', 'nginx', () => nginxEscape(`hello\n${leaf.toString()}`), undefined],
    ['PEM of another block type', 'nginx', () => nginxEscape(svid.privateKeyPem), undefined],
    [
      'unterminated PEM',
      'nginx',
      () => nginxEscape(leaf.toString().replace('-----END CERTIFICATE-----', '')),
      undefined,
    ],
    [
      'Node\'s ", " join of two nginx lines',
      'nginx',
      () => `${nginxEscape(leaf.toString())}, ${nginxEscape(leaf.toString())}`,
      undefined,
    ],
    [
      'two nginx lines',
      'nginx',
      () => [nginxEscape(leaf.toString()), nginxEscape(leaf.toString())],
      undefined,
    ],
    [
      'PEM body not base64',
      'nginx',
      () => nginxEscape('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'),
      undefined,
    ],
    [
      'DER that is not a certificate',
      'haproxy',
      () => Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]).toString('base64'),
      undefined,
    ],
    [
      'DER with trailing bytes',
      'haproxy',
      () => Buffer.concat([leaf.raw, Buffer.from([0])]).toString('base64'),
      undefined,
    ],
    [
      'two DER certificates in a single-certificate header',
      'haproxy',
      () => Buffer.concat([leaf.raw, inter.raw]).toString('base64'),
      undefined,
    ],
    [
      'URL-safe base64 alphabet',
      'haproxy',
      () => b64(leaf).replace(/\+/g, '-').replace(/\//g, '_'),
      undefined,
    ],
    ['base64 with a space', 'haproxy', () => `${b64(leaf).slice(0, 10)} ${b64(leaf).slice(10)}`, undefined],
    [
      'base64 with a bad length',
      'haproxy',
      () => b64(leaf).replace(/=+$/, '').slice(0, -1).concat('=='),
      undefined,
    ],
    ['base64 with inner padding', 'haproxy', () => `AA==${b64(leaf)}`, undefined],
    ['haproxy chain not concatenated DER', 'haproxy', () => b64(leaf), () => 'AAAA'],
    [
      'Traefik v2 member still escaped twice',
      'traefik-v2',
      () => goQueryEscape(goQueryEscape(b64(leaf))),
      undefined,
    ],
    ['Traefik v3 empty member', 'traefik-v3', () => `${b64(leaf)},,${b64(inter)}`, undefined],
    ['Traefik v3 trailing comma', 'traefik-v3', () => `${b64(leaf)},`, undefined],
    ['Traefik v3 given PEM', 'traefik-v3', () => leaf.toString(), undefined],
    ['RFC 9440 without colons', 'rfc9440', () => b64(leaf), undefined],
    ['RFC 9440 unterminated', 'rfc9440', () => `:${b64(leaf)}`, undefined],
    ['RFC 9440 a list where an item is expected', 'rfc9440', () => `${sf(leaf)}, ${sf(inter)}`, undefined],
    ['RFC 9440 bad parameters', 'rfc9440', () => `${sf(leaf)} junk`, undefined],
    ['RFC 9440 chain member without colons', 'rfc9440', () => sf(leaf), () => `${sf(inter)}, ${b64(inter)}`],
    ['RFC 9440 chain with an empty member', 'rfc9440', () => sf(leaf), () => `${sf(inter)},,`],
    ['too long', 'haproxy', () => 'A'.repeat(DEFAULT_FORWARDED_CERT_MAX_LENGTH + 1), undefined],
    ['not a string', 'nginx', () => 42 as unknown as string, undefined],
    ['array with a non-string', 'traefik-v3', () => [b64(leaf), null] as unknown as string[], undefined],
  ])('%s', (_name, format, value, chain) => {
    expect(codeOf(() => decodeForwardedCert(value(), format, chain ? { chain: chain() } : {}))).toBe(
      'ERR_FORWARDED_CERT_MALFORMED',
    )
  })

  test('the header and the chain header count together against maxLength', () => {
    const v = b64(leaf)
    const c = b64(inter)
    expect(decodeForwardedCert(v, 'haproxy', { chain: c, maxLength: v.length + c.length })).toHaveLength(2)
    expect(
      codeOf(() => decodeForwardedCert(v, 'haproxy', { chain: c, maxLength: v.length + c.length - 1 })),
    ).toBe('ERR_FORWARDED_CERT_MALFORMED')
  })

  test.each([
    ['unknown format', () => decodeForwardedCert(b64(leaf), 'caddy' as ForwardedCertFormat)],
    [
      'chain for a format that carries its own',
      () => decodeForwardedCert(b64(leaf), 'traefik-v3', { chain: b64(inter) }),
    ],
    ['maxLength', () => decodeForwardedCert(b64(leaf), 'haproxy', { maxLength: 0 })],
  ])('%s is an options error', (_name, fn) => {
    expect(codeOf(fn)).toBe('ERR_OPTIONS_INVALID')
  })

  test('messages never contain the certificate', () => {
    try {
      decodeForwardedCert(`junk${nginxEscape(leaf.toString())}`, 'nginx')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(ForwardedCertError)
      expect((err as Error).message).toMatch(/^forwardedcert: /)
      expect((err as Error).message).not.toContain(b64(leaf).slice(0, 20))
    }
  })
})

describe('decodeForwardedCert: property', () => {
  test('throws nothing but ForwardedCertError on arbitrary text, for every format', () => {
    const formats = Object.keys(forwardedCertPresets) as ForwardedCertFormat[]
    const alphabet = fc.constantFrom(
      'A',
      'z',
      '0',
      '+',
      '/',
      '=',
      ':',
      ',',
      ';',
      '%',
      '2',
      'B',
      ' ',
      '-',
      '\n',
      'é',
    )
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(alphabet, { maxLength: 60 }).map((a) => a.join('')),
      fc.constantFrom(
        '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
        ':MIIB:',
        'MA==',
        '%0A',
      ),
    )
    fc.assert(
      fc.property(
        fc.constantFrom(...formats),
        text,
        fc.option(text, { nil: undefined }),
        (format, value, chain) => {
          const useChain = format !== 'traefik-v2' && format !== 'traefik-v3' ? chain : undefined
          try {
            decodeForwardedCert(value, format, { chain: useChain })
          } catch (err) {
            if (!(err instanceof ForwardedCertError)) throw err
            expect(err.code).toBe('ERR_FORWARDED_CERT_MALFORMED')
          }
        },
      ),
      { numRuns: 1500 },
    )
  })
})
