import { verifyX509Svid } from '@svidkit/core/x509-svid'
import { TestCA } from '@svidkit/testing'
import { describe, expect, test } from 'vitest'

describe('TestCA: distinguished names', () => {
  test('an empty leaf subject comes with a critical SAN extension (RFC 5280 §4.2.1.6), and verifies', async () => {
    const ca = await TestCA.create({ trustDomain: 'example.org', subject: 'O=cluster.local' })
    const svid = await ca.issueX509Svid({ id: '/web', subject: '' })
    const leaf = svid.certificates[0]!
    expect(leaf.subject || undefined).toBeUndefined() // undefined on Node 20, '' on Node 22 and later
    expect(leaf.issuer).toBe('O=cluster.local')
    expect(leaf.toLegacyObject().subjectaltname).toBe('URI:spiffe://example.org/web')
    expect(verifyX509Svid(svid.certificates, ca.bundleSet()).id.toString()).toBe('spiffe://example.org/web')
    // The critical flag: the SAN extension's DER carries BOOLEAN TRUE after its OID (2.5.29.17).
    expect(leaf.raw.includes(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11, 0x01, 0x01, 0xff]))).toBe(true)
    const named = (await ca.issueX509Svid({ id: '/web' })).certificates[0]!
    expect(named.raw.includes(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11, 0x01, 0x01, 0xff]))).toBe(false)
  })

  test('UTF-8 DNs; a CA subject must not be empty', async () => {
    const ca = await TestCA.create({ trustDomain: 'example.org', subject: 'CN=Zürich CA, O=例え' })
    const leaf = (await ca.issueX509Svid({ id: '/web', subject: 'CN=ワーク' })).certificates[0]!
    expect(leaf.subject).toBe('CN=ワーク')
    expect(leaf.issuer).toBe('CN=Zürich CA\nO=例え')
    await expect(TestCA.create({ trustDomain: 'example.org', subject: '' })).rejects.toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
    })
  })
})

describe('TestCA: state', () => {
  test('toState/fromState restores the same CA: certificate, keys, JWT key ID, subject', async () => {
    const ca = await TestCA.create({ trustDomain: 'example.org', keyType: 'ec-p384', jwtKeyType: 'rsa-2048' })
    const state = JSON.parse(JSON.stringify(ca.toState()))
    const same = await TestCA.fromState(state)
    expect(same.certificate.fingerprint256).toBe(ca.certificate.fingerprint256)
    expect(same.jwtKeyId).toBe(ca.jwtKeyId)
    // What the restored CA issues verifies against the original's bundle, and the other way round.
    const svid = await same.issueX509Svid({ id: '/web' })
    expect(svid.certificates[0]!.issuer).toBe(ca.certificate.subject)
    expect(verifyX509Svid(svid.certificates, ca.bundleSet()).id.path).toBe('/web')
    const token = await same.mintJwtSvid({ subject: '/web', audience: 'a' })
    expect(
      ca
        .jwtBundle()
        .authorities.has(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid),
    ).toBe(true)
  })

  test('fromState refuses a key that is not the certificate’s, and an intermediate has no state', async () => {
    const a = await TestCA.create({ trustDomain: 'example.org' })
    const b = await TestCA.create({ trustDomain: 'example.org' })
    await expect(
      TestCA.fromState({ ...a.toState(), privateKeyPem: b.toState().privateKeyPem }),
    ).rejects.toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
    })
    await expect((async () => (await a.createIntermediate()).toState())()).rejects.toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
    })
  })
})
