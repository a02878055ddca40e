import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bundleMapJson, TestCA } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'
import { runCli } from './run-cli.js'

let dir: string
let ca: TestCA
let other: TestCA
const f = (name: string) => join(dir, name)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svidkit-cli-'))
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
