import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bundleMapJson, TestCA } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'
import { runCli, useTempDir } from './run-cli.js'

const tempDir = useTempDir('svidkit-cli-')

let dir: string
let ca: TestCA
let other: TestCA
const f = (name: string) => join(dir, name)

beforeAll(async () => {
  dir = tempDir()
  ca = await TestCA.create({ trustDomain: 'example.org' })
  other = await TestCA.create({ trustDomain: 'other.org' })
  const svid = await ca.issueX509Svid({ id: '/ns/prod/sa/web', ttlSeconds: 600 })
  const forged = await other.issueX509Svid({ id: 'spiffe://example.org/ns/prod/sa/web' })
  writeFileSync(f('svid.pem'), svid.certificatesPem)
  writeFileSync(f('forged.pem'), forged.certificatesPem)
  writeFileSync(f('garbage.pem'), 'not a certificate')
  writeFileSync(f('ca.pem'), ca.x509Bundle().toPem())
  writeFileSync(f('bundle.json'), ca.spiffeBundle().toJson())
  writeFileSync(f('map.json'), bundleMapJson([ca, other]))
  writeFileSync(f('other.pem'), other.x509Bundle().toPem())
})

describe('svidkit x509 verify', () => {
  test('accepted with a bundle map, a SPIFFE bundle or a PEM bundle', async () => {
    for (const args of [
      ['--bundle', f('map.json')],
      ['--bundle', f('bundle.json'), '--trust-domain', 'example.org'],
      ['--bundle', f('ca.pem'), '--trust-domain', 'example.org'],
    ]) {
      const r = await runCli(['x509', 'verify', f('svid.pem'), ...args, '--json'])
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.json).toMatchObject({
        ok: true,
        spiffeId: 'spiffe://example.org/ns/prod/sa/web',
        trustDomain: 'example.org',
        expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      })
    }
  })

  test('federation: repeated --bundle; another trust domain cannot vouch', async () => {
    const r = await runCli(['x509', 'verify', f('forged.pem'), '--bundle', f('map.json'), '--json'])
    expect(r.code).toBe(1)
    expect(r.json).toMatchObject({ ok: false, code: 'ERR_X509_SVID_UNTRUSTED' })
    const onlyOther = await runCli([
      'x509',
      'verify',
      f('svid.pem'),
      '--bundle',
      f('other.pem'),
      '--trust-domain',
      'other.org',
      '--json',
    ])
    expect(onlyOther.json).toMatchObject({ ok: false, code: 'ERR_X509_SVID_NO_BUNDLE' })
  })

  test('--at: expired in the future, not yet valid in the past; a bad --at is a usage error', async () => {
    const later = await runCli([
      'x509',
      'verify',
      f('svid.pem'),
      '--bundle',
      f('map.json'),
      '--at',
      '2099-01-01T00:00:00Z',
      '--json',
    ])
    expect(later.json).toMatchObject({ ok: false, code: 'ERR_X509_SVID_EXPIRED' })
    const earlier = await runCli([
      'x509',
      'verify',
      f('svid.pem'),
      '--bundle',
      f('map.json'),
      '--at',
      '2001-01-01T00:00:00Z',
      '--json',
    ])
    expect(earlier.json).toMatchObject({ ok: false, code: 'ERR_X509_SVID_NOT_YET_VALID' })
    const bad = await runCli([
      'x509',
      'verify',
      f('svid.pem'),
      '--bundle',
      f('map.json'),
      '--at',
      'yesterday',
      '--json',
    ])
    expect(bad.code).toBe(2)
  })

  test('malformed content is rejected (exit 1); no --bundle is a usage error (exit 2)', async () => {
    expect(
      (await runCli(['x509', 'verify', f('garbage.pem'), '--bundle', f('map.json'), '--json'])).code,
    ).toBe(1)
    expect((await runCli(['x509', 'verify', f('svid.pem'), '--json'])).code).toBe(2)
  })
})

describe('svidkit jwt verify', () => {
  test('accepted: subject, audience, expiry and claims', async () => {
    const token = await ca.mintJwtSvid({
      subject: '/ns/prod/sa/web',
      audience: 'orders',
      claims: { scope: 'orders:read' },
    })
    const r = await runCli([
      'jwt',
      'verify',
      token,
      '--bundle',
      f('map.json'),
      '--audience',
      'orders',
      '--json',
    ])
    expect(r.code).toBe(0)
    expect(r.json).toMatchObject({
      ok: true,
      spiffeId: 'spiffe://example.org/ns/prod/sa/web',
      trustDomain: 'example.org',
      audience: ['orders'],
      claims: { sub: 'spiffe://example.org/ns/prod/sa/web', scope: 'orders:read' },
    })
    expect(JSON.stringify(r.json)).not.toContain(token)
  })

  test('token from stdin, several audiences (any of them)', async () => {
    const token = await ca.mintJwtSvid({ subject: '/a', audience: 'admin' })
    const r = await runCli(
      [
        'jwt',
        'verify',
        '-',
        '--bundle',
        f('map.json'),
        '--audience',
        'orders',
        '--audience',
        'admin',
        '--json',
      ],
      `${token}\n`,
    )
    expect(r.code).toBe(0)
  })

  test('rejections: wrong audience, expired, malformed, empty', async () => {
    const token = await ca.mintJwtSvid({ subject: '/a', audience: 'orders' })
    const aud = await runCli([
      'jwt',
      'verify',
      token,
      '--bundle',
      f('map.json'),
      '--audience',
      'admin',
      '--json',
    ])
    expect(aud.json).toMatchObject({ ok: false, code: 'ERR_JWT_SVID_AUDIENCE_MISMATCH' })
    const exp = await runCli([
      'jwt',
      'verify',
      token,
      '--bundle',
      f('map.json'),
      '--audience',
      'orders',
      '--at',
      '2099-01-01T00:00:00Z',
      '--json',
    ])
    expect(exp.json).toMatchObject({ ok: false, code: 'ERR_JWT_SVID_EXPIRED' })
    for (const t of ['not-a-token', '', 'a.b.c']) {
      const r = await runCli([
        'jwt',
        'verify',
        t,
        '--bundle',
        f('map.json'),
        '--audience',
        'orders',
        '--json',
      ])
      expect(r.code, t).toBe(1)
      expect(r.json).toMatchObject({ ok: false, code: expect.stringMatching(/^ERR_JWT_SVID_/) })
    }
    expect((await runCli(['jwt', 'verify', token, '--bundle', f('map.json'), '--json'])).code).toBe(2)
  })
})

describe('svidkit x509 verify: inputs found when tried as a new user would (issue 16)', () => {
  test('an X.509-SVID with an empty subject DN (as Istio issues them) verifies; the subject shows as ""', async () => {
    const istio = await ca.issueX509Svid({ id: '/ns/istio/sa/web', subject: '' })
    // What Node gives for an empty DN: undefined on Node 20, '' on Node 22 and later.
    expect(istio.certificates[0]!.subject || undefined).toBeUndefined()
    writeFileSync(f('istio.pem'), istio.certificatesPem)
    const r = await runCli(['x509', 'verify', f('istio.pem'), '--bundle', f('map.json'), '--json'])
    expect(r.code).toBe(0)
    expect(r.json).toMatchObject({ ok: true, spiffeId: 'spiffe://example.org/ns/istio/sa/web' })
    const chain = r.json!.chain as { subject: string; issuer: string }[]
    expect(chain[0]).toMatchObject({ subject: '', issuer: 'O=svidkit test CA, CN=example.org' })
    const human = await runCli(['x509', 'verify', f('istio.pem'), '--bundle', f('map.json')])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('verified: spiffe://example.org/ns/istio/sa/web')
  })

  test('a 10 MB chain file is refused at once with ERR_X509_SVID_TOO_LARGE; a device is not read forever', async () => {
    const leaf = (await ca.issueX509Svid({ id: '/web' })).certificates[0]!.toString()
    writeFileSync(f('huge.pem'), leaf.repeat(Math.ceil((10 * 1024 * 1024) / leaf.length)))
    const r = await runCli(['x509', 'verify', f('huge.pem'), '--bundle', f('map.json'), '--json'])
    expect(r.code).toBe(1)
    expect(r.json).toEqual({
      ok: false,
      code: 'ERR_X509_SVID_TOO_LARGE',
      message: `x509svid: certificate file "${f('huge.pem')}" is larger than 262144 bytes`,
    })
    writeFileSync(f('seventeen.pem'), leaf.repeat(17))
    const long = await runCli(['x509', 'verify', f('seventeen.pem'), '--bundle', f('map.json'), '--json'])
    expect(long.json).toEqual({
      ok: false,
      code: 'ERR_X509_SVID_TOO_LARGE',
      message: 'x509svid: chain holds more than 16 certificates',
    })
    const dev = await runCli(['x509', 'verify', '/dev/zero', '--bundle', f('map.json'), '--json'])
    expect(dev.json).toMatchObject({ ok: false, code: 'ERR_X509_SVID_TOO_LARGE' })
    const devBundle = await runCli(['x509', 'verify', f('svid.pem'), '--bundle', '/dev/zero', '--json'])
    expect(devBundle.code).toBe(1)
    expect(devBundle.json).toEqual({
      ok: false,
      code: 'ERR_CLI_INPUT',
      message: 'cli: bundle file "/dev/zero": is larger than 4194304 bytes',
    })
    const folder = await runCli(['x509', 'verify', dir, '--bundle', f('map.json'), '--json'])
    expect(folder.json).toMatchObject({ ok: false, code: 'ERR_CLI_INPUT' })
    expect(folder.json!.message).toContain(`"${dir}": is a folder, not a file`)
  })
})
