import { X509Certificate } from 'node:crypto'
import { BundleSet, X509Bundle } from '@svidkit/core/bundle'
import type { TrustDomain } from '@svidkit/core/spiffe-id'
import { type VerifyX509SvidOptions, verifyX509Svid } from '@svidkit/core/x509-svid'
import { codeOf, generateTestKeyPair, KeyUsageFlags, TestCA } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'

let ca1: TestCA
let ca2: TestCA
let bundles: BundleSet

beforeAll(async () => {
  ca1 = await TestCA.create({ trustDomain: 'domain1.test' })
  ca2 = await TestCA.create({ trustDomain: 'domain2.test' })
  bundles = new BundleSet([ca1.x509Bundle(), ca2.x509Bundle()])
})

describe('verifyX509Svid: go-spiffe verify_test.go vectors', () => {
  test('happy path returns the ID, the verified chain and the expiry', async () => {
    const svid = await ca1.issueX509Svid({ id: '/workload' })
    const r = verifyX509Svid(svid.certificates, bundles)
    expect(r.id.toString()).toBe('spiffe://domain1.test/workload')
    expect(r.trustDomain.name).toBe('domain1.test')
    expect(r.chain).toHaveLength(2)
    expect(r.chain[1]!.fingerprint256).toBe(ca1.certificate.fingerprint256)
    expect(r.expiresAt.getTime()).toBe(
      new X509Certificate(svid.certificates[0]!.raw).validToDate?.getTime() ?? r.expiresAt.getTime(),
    )
  })

  test('empty chain', () => {
    expect(codeOf(() => verifyX509Svid([], bundles))).toBe('ERR_X509_SVID_EMPTY_CHAIN')
  })

  test('missing bundle source is an options error', async () => {
    const svid = await ca1.issueX509Svid({ id: '/workload' })
    expect(codeOf(() => verifyX509Svid(svid.certificates, undefined as never))).toBe('ERR_OPTIONS_INVALID')
  })

  test('no bundle for the leaf trust domain', async () => {
    const svid = await ca1.issueX509Svid({ id: '/workload' })
    expect(codeOf(() => verifyX509Svid(svid.certificates, ca2.x509Bundle()))).toBe('ERR_X509_SVID_NO_BUNDLE')
    expect(codeOf(() => verifyX509Svid(svid.certificates, new BundleSet([ca2.x509Bundle()])))).toBe(
      'ERR_X509_SVID_NO_BUNDLE',
    )
  })

  test('a bundle for the right trust domain with no roots trusts nothing', async () => {
    const svid = await ca1.issueX509Svid({ id: '/workload' })
    expect(codeOf(() => verifyX509Svid(svid.certificates, new X509Bundle('domain1.test', [])))).toBe(
      'ERR_X509_SVID_UNTRUSTED',
    )
  })

  test('td1 name bound to td2 roots: signed by unknown authority', async () => {
    const svid = await ca1.issueX509Svid({ id: '/workload' })
    const crossed = new X509Bundle('domain1.test', [ca2.certificate])
    expect(codeOf(() => verifyX509Svid(svid.certificates, crossed))).toBe('ERR_X509_SVID_UNTRUSTED')
  })

  test('a CA of one federated trust domain cannot vouch for another trust domain', async () => {
    // ca2 issues a cert claiming a domain1.test ID; domain1's bundle must be used, and refuses it.
    const forged = await ca2.issueX509Svid({ id: 'spiffe://domain1.test/workload' })
    expect(codeOf(() => verifyX509Svid(forged.certificates, bundles))).toBe('ERR_X509_SVID_UNTRUSTED')
  })

  test.each([
    ['wrong scheme', ['sparfe://domain1.test/workload'], 'ERR_X509_SVID_INVALID_ID'],
    ['no URI SAN', [], 'ERR_X509_SVID_NO_URI_SAN'],
    [
      'duplicated URI SAN',
      ['spiffe://domain1.test/a', 'spiffe://domain1.test/b'],
      'ERR_X509_SVID_MULTIPLE_URI_SANS',
    ],
    ['root path', ['spiffe://domain1.test'], 'ERR_X509_SVID_ROOT_PATH'],
  ])('%s', async (_name, uris, code) => {
    const svid = await ca1.issueX509Svid({ id: '/workload', broken: { uris } })
    expect(codeOf(() => verifyX509Svid(svid.certificates, bundles))).toBe(code)
  })

  test.each([
    ['leaf IsCA', { isCA: true }, 'ERR_X509_SVID_LEAF_IS_CA'],
    [
      'leaf keyCertSign',
      { keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign },
      'ERR_X509_SVID_LEAF_KEY_CERT_SIGN',
    ],
    [
      'leaf cRLSign',
      { keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.cRLSign },
      'ERR_X509_SVID_LEAF_CRL_SIGN',
    ],
    [
      'leaf without digitalSignature (stricter than go-spiffe)',
      { keyUsage: KeyUsageFlags.keyEncipherment },
      'ERR_X509_SVID_LEAF_NO_DIGITAL_SIGNATURE',
    ],
    ['leaf without key usage', { keyUsage: null }, 'ERR_X509_SVID_KEY_USAGE_MISSING'],
    ['unknown critical extension', { criticalExtension: '1.2.3.4.5' }, 'ERR_X509_SVID_CRITICAL_EXTENSION'],
  ] as const)('%s', async (_name, broken, code) => {
    const svid = await ca1.issueX509Svid({ id: '/workload', broken: broken as never })
    expect(codeOf(() => verifyX509Svid(svid.certificates, bundles))).toBe(code)
  })

  test('expired and not yet valid, with clock skew', async () => {
    const svid = await ca1.issueX509Svid({ id: '/workload', ttlSeconds: 60 })
    const after = new Date(svid.expiresAt.getTime() + 1000)
    expect(codeOf(() => verifyX509Svid(svid.certificates, bundles, { at: after }))).toBe(
      'ERR_X509_SVID_EXPIRED',
    )
    expect(codeOf(() => verifyX509Svid(svid.certificates, bundles, { at: after, clockSkewSeconds: 5 }))).toBe(
      'OK',
    )
    const before = new Date(Date.now() - 3_600_000)
    expect(codeOf(() => verifyX509Svid(svid.certificates, bundles, { at: before }))).toBe(
      'ERR_X509_SVID_NOT_YET_VALID',
    )
  })

  test('corrupted DER', async () => {
    const svid = await ca1.issueX509Svid({ id: '/workload' })
    const der = Buffer.from(svid.certificatesDer[0]!)
    der[0] = 0x31
    expect(codeOf(() => verifyX509Svid([der], bundles))).toBe('ERR_X509_SVID_MALFORMED')
  })

  test('forged signature', async () => {
    const other = await generateTestKeyPair('ec-p256')
    const svid = await ca1.issueX509Svid({ id: '/workload', broken: { signWith: other } })
    expect(codeOf(() => verifyX509Svid(svid.certificates, bundles))).toBe('ERR_X509_SVID_UNTRUSTED')
  })
})

describe('verifyX509Svid: chains', () => {
  test('an intermediate chain verifies; PEM and DER inputs agree', async () => {
    const inter = await ca1.createIntermediate()
    const svid = await inter.issueX509Svid({ id: '/via-intermediate' })
    expect(svid.certificates).toHaveLength(2)
    const r = verifyX509Svid(svid.certificates, bundles)
    expect(r.chain).toHaveLength(3)
    expect(verifyX509Svid(svid.certificatesPem, bundles).id.path).toBe('/via-intermediate')
    expect(verifyX509Svid(Buffer.concat(svid.certificatesDer as Buffer[]), bundles).id.path).toBe(
      '/via-intermediate',
    )
    expect(codeOf(() => verifyX509Svid([svid.certificates[0]!], bundles))).toBe('ERR_X509_SVID_UNTRUSTED')
  })

  test('an intermediate that is not a CA, or lacks keyCertSign, is refused', async () => {
    const notCa = await ca1.createIntermediate({ broken: { notCA: true } })
    const s1 = await notCa.issueX509Svid({ id: '/a' })
    expect(codeOf(() => verifyX509Svid(s1.certificates, bundles))).toBe('ERR_X509_SVID_SIGNER_NOT_CA')
    const noSign = await ca1.createIntermediate({ broken: { noKeyCertSign: true } })
    const s2 = await noSign.issueX509Svid({ id: '/a' })
    expect(codeOf(() => verifyX509Svid(s2.certificates, bundles))).toBe(
      'ERR_X509_SVID_SIGNER_NO_KEY_CERT_SIGN',
    )
  })

  test('path length constraint', async () => {
    const root = await TestCA.create({ trustDomain: 'plen.test', pathLength: 0 })
    const inter = await root.createIntermediate()
    const svid = await inter.issueX509Svid({ id: '/a' })
    expect(codeOf(() => verifyX509Svid(svid.certificates, root.x509Bundle()))).toBe(
      'ERR_X509_SVID_PATH_LENGTH',
    )
    const direct = await root.issueX509Svid({ id: '/b' })
    expect(codeOf(() => verifyX509Svid(direct.certificates, root.x509Bundle()))).toBe('OK')
  })

  test('URI name constraints', async () => {
    const root = await TestCA.create({ trustDomain: 'nc.test', permittedUriDomains: ['nc.test'] })
    const ok = await root.issueX509Svid({ id: '/a' })
    expect(codeOf(() => verifyX509Svid(ok.certificates, root.x509Bundle()))).toBe('OK')
    const inter = await root.createIntermediate({ trustDomain: 'other.test' })
    const bad = await inter.issueX509Svid({ id: 'spiffe://other.test/a' })
    const set = new BundleSet([new X509Bundle('other.test', [root.certificate])])
    expect(codeOf(() => verifyX509Svid(bad.certificates, set))).toBe('ERR_X509_SVID_NAME_CONSTRAINTS')
  })

  test('options: critical key usage and EKU enforcement', async () => {
    const nonCritical = await ca1.issueX509Svid({ id: '/a', broken: { keyUsageCritical: false } })
    expect(codeOf(() => verifyX509Svid(nonCritical.certificates, bundles))).toBe('OK')
    expect(
      codeOf(() => verifyX509Svid(nonCritical.certificates, bundles, { requireCriticalKeyUsage: true })),
    ).toBe('ERR_X509_SVID_KEY_USAGE_NOT_CRITICAL')
    const serverOnly = await ca1.issueX509Svid({ id: '/a', broken: { extKeyUsage: ['1.3.6.1.5.5.7.3.1'] } })
    const opts: VerifyX509SvidOptions = { enforceExtKeyUsage: true }
    expect(codeOf(() => verifyX509Svid(serverOnly.certificates, bundles))).toBe('OK')
    expect(codeOf(() => verifyX509Svid(serverOnly.certificates, bundles, opts))).toBe(
      'ERR_X509_SVID_EXT_KEY_USAGE',
    )
  })

  test('the bundle source is asked for the leaf trust domain only', async () => {
    const asked: string[] = []
    const svid = await ca1.issueX509Svid({ id: '/w' })
    verifyX509Svid(svid.certificates, {
      getX509BundleForTrustDomain(td: TrustDomain) {
        asked.push(td.name)
        return bundles.getX509BundleForTrustDomain(td)
      },
    })
    expect(asked).toEqual(['domain1.test'])
  })
})
