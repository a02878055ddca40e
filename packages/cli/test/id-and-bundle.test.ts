import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bundleMapJson, TestCA } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'
import { runCli, useTempDir } from './run-cli.js'

const tempDir = useTempDir('svidkit-cli-')

describe('svidkit id', () => {
  test('accepted ID: exit 0 and the documented JSON', async () => {
    const r = await runCli(['id', 'spiffe://example.org/ns/prod/sa/web', '--json'])
    expect(r.code).toBe(0)
    expect(r.json).toEqual({
      ok: true,
      spiffeId: 'spiffe://example.org/ns/prod/sa/web',
      trustDomain: 'example.org',
      path: '/ns/prod/sa/web',
      segments: ['ns', 'prod', 'sa', 'web'],
    })
  })

  test('root ID has an empty path and no segments', async () => {
    const r = await runCli(['id', 'spiffe://example.org', '--json'])
    expect(r.json).toMatchObject({ ok: true, path: '', segments: [] })
  })

  test.each([
    ['', 'ERR_SPIFFE_ID_EMPTY'],
    ['spiffe://example.org/a/', 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH'],
    ['http://example.org/a', 'ERR_SPIFFE_ID_SCHEME'],
    ['spiffe://Example.org/a', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
  ])('rejected ID %j: exit 1 with code %s', async (id, code) => {
    const r = await runCli(['id', id, '--json'])
    expect(r.code).toBe(1)
    expect(r.json).toEqual({ ok: false, code, message: expect.stringMatching(/^spiffeid: /) })
  })

  test('usage errors exit 2, with one JSON object under --json', async () => {
    for (const args of [
      ['id', '--json'],
      ['nope', '--json'],
      ['id', 'spiffe://a/b', '--bogus', '--json'],
      ['x509', '--json'],
    ]) {
      const r = await runCli(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.json).toMatchObject({ ok: false, code: 'ERR_CLI_USAGE' })
    }
    const plain = await runCli(['id'])
    expect(plain.code).toBe(2)
    expect(plain.stderr).toContain("missing required argument 'id'")
  })

  test('human output is short', async () => {
    const r = await runCli(['id', 'spiffe://example.org/web'])
    expect(r.stdout).toBe('spiffe://example.org/web\n  trust domain: example.org\n  path:         /web\n')
    const bad = await runCli(['id', 'spiffe://example.org/web/'])
    expect(bad.stderr).toContain('rejected: spiffeid: path cannot have a trailing slash')
  })
})

describe('svidkit bundle', () => {
  let dir: string
  let a: TestCA
  let b: TestCA
  beforeAll(async () => {
    dir = tempDir()
    a = await TestCA.create({ trustDomain: 'a.test' })
    b = await TestCA.create({ trustDomain: 'b.test' })
    writeFileSync(join(dir, 'map.json'), bundleMapJson([a, b]))
    writeFileSync(
      join(dir, 'a.json'),
      a.spiffeBundle({ refreshHintSeconds: 300, sequenceNumber: 9007199254740993n }).toJson(),
    )
    writeFileSync(join(dir, 'a.pem'), a.x509Bundle().toPem())
    writeFileSync(join(dir, 'bad.json'), '{"keys": [')
  })

  test('bundle map: every trust domain with counts and kids', async () => {
    const r = await runCli(['bundle', join(dir, 'map.json'), '--json'])
    expect(r.code).toBe(0)
    expect(r.json).toEqual({
      ok: true,
      format: 'bundle-map',
      trustDomains: [
        {
          trustDomain: 'a.test',
          x509Authorities: 1,
          jwtAuthorities: 1,
          jwtKeyIds: [a.jwtKeyId],
          sequence: null,
          refreshHint: null,
        },
        {
          trustDomain: 'b.test',
          x509Authorities: 1,
          jwtAuthorities: 1,
          jwtKeyIds: [b.jwtKeyId],
          sequence: null,
          refreshHint: null,
        },
      ],
    })
  })

  test('SPIFFE bundle needs --trust-domain; sequence stays exact', async () => {
    const missing = await runCli(['bundle', join(dir, 'a.json'), '--json'])
    expect(missing.code).toBe(1)
    const r = await runCli(['bundle', join(dir, 'a.json'), '--trust-domain', 'a.test', '--json'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('"sequence":9007199254740993')
    expect(r.json).toMatchObject({
      format: 'spiffe-bundle',
      trustDomains: [{ trustDomain: 'a.test', refreshHint: 300 }],
    })
  })

  test('PEM bundle, malformed and missing files', async () => {
    expect(
      (await runCli(['bundle', join(dir, 'a.pem'), '--trust-domain', 'a.test', '--json'])).json,
    ).toMatchObject({
      format: 'pem',
      trustDomains: [{ x509Authorities: 1, jwtAuthorities: 0 }],
    })
    expect(
      (await runCli(['bundle', join(dir, 'bad.json'), '--trust-domain', 'a.test', '--json'])).json,
    ).toMatchObject({
      ok: false,
      code: 'ERR_BUNDLE_MALFORMED',
    })
    const nofile = await runCli(['bundle', join(dir, 'nope.json'), '--json'])
    expect(nofile.code).toBe(1)
    expect(nofile.json).toMatchObject({ ok: false, code: 'ERR_CLI_INPUT' })
  })
})

test('--json is accepted before the command too', async () => {
  const r = await runCli(['--json', 'id', 'spiffe://example.org/a'])
  expect(r.code).toBe(0)
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, spiffeId: 'spiffe://example.org/a' })
  const bad = await runCli(['--json', 'id'])
  expect(bad.code).toBe(2)
  expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, code: 'ERR_CLI_USAGE' })
})
