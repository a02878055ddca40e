// Regression tests for issue 16, point 7: a 10 MB PEM file with 14,151 certificates was accepted as a
// chain in 3.6 s, and PEM decoding took quadratic time on BEGIN markers without an END. Every place a
// chain comes in now refuses more than MAX_CHAIN_CERTIFICATES certificates or MAX_CHAIN_BYTES bytes
// before parsing any certificate of it.
import { X509Bundle } from '@svidkit/core/bundle'
import { decodeForwardedCert } from '@svidkit/core/forwarded-cert'
import {
  MAX_CHAIN_BYTES,
  MAX_CHAIN_CERTIFICATES,
  parseX509Svid,
  verifyX509Svid,
} from '@svidkit/core/x509-svid'
import { createXfccExtractor, formatXfcc } from '@svidkit/core/xfcc'
import { codeOf, TestCA, type TestX509Svid } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'

let ca: TestCA
let svid: TestX509Svid
/** The leaf followed by copies of the CA certificate: `n` certificates in all. */
let chainOf: (n: number) => readonly import('node:crypto').X509Certificate[]

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  svid = await ca.issueX509Svid({ id: '/web' })
  chainOf = (n) => [svid.certificates[0]!, ...Array.from({ length: n - 1 }, () => ca.certificate)]
})

describe('chain length and size caps', () => {
  test('the documented limits', () => {
    expect(MAX_CHAIN_CERTIFICATES).toBe(16)
    expect(MAX_CHAIN_BYTES).toBe(256 * 1024)
  })

  test(`verifyX509Svid accepts ${MAX_CHAIN_CERTIFICATES} certificates and refuses one more, in every input form`, () => {
    const bundles = ca.bundleSet()
    const atLimit = chainOf(MAX_CHAIN_CERTIFICATES)
    const over = chainOf(MAX_CHAIN_CERTIFICATES + 1)
    expect(codeOf(() => verifyX509Svid(atLimit, bundles))).toBe('OK')
    expect(codeOf(() => verifyX509Svid(over, bundles))).toBe('ERR_X509_SVID_TOO_LARGE')
    const pem = (certs: typeof over) => certs.map((c) => c.toString()).join('')
    expect(codeOf(() => verifyX509Svid(pem(atLimit), bundles))).toBe('OK')
    expect(codeOf(() => verifyX509Svid(pem(over), bundles))).toBe('ERR_X509_SVID_TOO_LARGE')
    const der = (certs: typeof over) => Buffer.concat(certs.map((c) => c.raw))
    expect(codeOf(() => verifyX509Svid(der(atLimit), bundles))).toBe('OK')
    expect(codeOf(() => verifyX509Svid(der(over), bundles))).toBe('ERR_X509_SVID_TOO_LARGE')
  })

  test('input larger than MAX_CHAIN_BYTES is refused before it is scanned', () => {
    const bundles = ca.bundleSet()
    const big = `${svid.certificatesPem}${' '.repeat(MAX_CHAIN_BYTES)}`
    expect(codeOf(() => verifyX509Svid(big, bundles))).toBe('ERR_X509_SVID_TOO_LARGE')
    expect(codeOf(() => verifyX509Svid(Buffer.alloc(MAX_CHAIN_BYTES + 1, 0x30), bundles))).toBe(
      'ERR_X509_SVID_TOO_LARGE',
    )
    // The 10 MB file of the report: 14,151 certificates.
    const huge = svid.certificates[0]!.toString().repeat(14_151)
    expect(codeOf(() => verifyX509Svid(huge, bundles))).toBe('ERR_X509_SVID_TOO_LARGE')
  })

  test("parseX509Svid (the workload's own SVID: files, Workload API responses) has the same caps", () => {
    const over = chainOf(MAX_CHAIN_CERTIFICATES + 1)
    expect(codeOf(() => parseX509Svid(over.map((c) => c.toString()).join(''), svid.privateKeyPem))).toBe(
      'ERR_X509_SVID_TOO_LARGE',
    )
    expect(codeOf(() => parseX509Svid(Buffer.concat(over.map((c) => c.raw)), svid.privateKey))).toBe(
      'ERR_X509_SVID_TOO_LARGE',
    )
  })

  test('forwarded-certificate headers: the chain header counts with the leaf', () => {
    const b64 = (c: { raw: Buffer }) => `:${c.raw.toString('base64')}:`
    const chain = (n: number) => Array.from({ length: n }, () => b64(ca.certificate)).join(', ')
    const leaf = b64(svid.certificates[0]!)
    const ok = decodeForwardedCert(leaf, 'rfc9440', { chain: chain(MAX_CHAIN_CERTIFICATES - 1) })
    expect(ok).toHaveLength(MAX_CHAIN_CERTIFICATES)
    expect(codeOf(() => decodeForwardedCert(leaf, 'rfc9440', { chain: chain(MAX_CHAIN_CERTIFICATES) }))).toBe(
      'ERR_FORWARDED_CERT_MALFORMED',
    )
    const pemChain = encodeURIComponent(ca.certificate.toString().repeat(MAX_CHAIN_CERTIFICATES + 1))
    expect(
      codeOf(() =>
        decodeForwardedCert(encodeURIComponent(svid.certificatesPem), 'nginx', {
          chain: pemChain,
          maxLength: 1 << 20,
        }),
      ),
    ).toBe('ERR_FORWARDED_CERT_MALFORMED')
    const concatenated = Buffer.concat(Array.from({ length: 17 }, () => ca.certificate.raw)).toString(
      'base64',
    )
    expect(
      codeOf(() =>
        decodeForwardedCert(svid.certificates[0]!.raw.toString('base64'), 'haproxy', {
          chain: concatenated,
          maxLength: 1 << 20,
        }),
      ),
    ).toBe('ERR_FORWARDED_CERT_MALFORMED')
  })

  test('an XFCC Chain of more than MAX_CHAIN_CERTIFICATES certificates is refused', () => {
    const xfcc = createXfccExtractor({ bundles: ca.bundleSet(), maxLength: 1 << 20 })
    const header = (n: number) =>
      formatXfcc([
        {
          uri: ['spiffe://example.org/web'],
          chain: [
            encodeURIComponent(
              chainOf(n)
                .map((c) => c.toString())
                .join(''),
            ),
          ],
        },
      ])
    expect(
      xfcc.extract({ header: header(MAX_CHAIN_CERTIFICATES), peerAddress: '127.0.0.1' })?.caller.toString(),
    ).toBe('spiffe://example.org/web')
    expect(
      codeOf(() => xfcc.extract({ header: header(MAX_CHAIN_CERTIFICATES + 1), peerAddress: '127.0.0.1' })),
    ).toBe('ERR_XFCC_CERT_INVALID')
  })
})

describe('PEM decoding is linear', () => {
  test('many BEGIN markers without an END decode to nothing, and fast', () => {
    // Quadratic before: 16,000 markers took 3.6 s, so these 100,000 would take minutes and hit the
    // test timeout. Now one pass (X509Bundle.fromPem has no size cap, so this reaches the decoder).
    const text = '-----BEGIN A-----'.repeat(100_000)
    expect(codeOf(() => X509Bundle.fromPem('example.org', text))).toBe('ERR_BUNDLE_MALFORMED')
  })

  test('a block closed by an END marker of another label is malformed', () => {
    const pem = ca.certificate.toString().replace('END CERTIFICATE', 'END PRIVATE KEY')
    expect(codeOf(() => verifyX509Svid(pem, ca.bundleSet()))).toBe('ERR_X509_SVID_MALFORMED')
  })

  test('text around blocks is still ignored', () => {
    const pem = `subject=O=svidkit\n${svid.certificatesPem}\n# trailing comment\n-----BEGIN UNTERMINATED`
    expect(verifyX509Svid(pem, ca.bundleSet()).id.toString()).toBe('spiffe://example.org/web')
  })
})
