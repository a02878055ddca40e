import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { runCli, useTempDir } from './run-cli.js'

const tempDir = useTempDir('svidkit-policy-')

describe('svidkit xfcc', () => {
  test('one element: the caller, values unquoted and unescaped, only the keys present', async () => {
    const header =
      'By=spiffe://cluster.local/ns/shop/sa/orders;Hash=abc123;Subject="CN=web,O=\\"Acme\\""; URI=spiffe://cluster.local/ns/shop/sa/web;DNS=web.shop;X-Custom=1'
    const r = await runCli(['xfcc', header, '--json'])
    expect(r.code).toBe(0)
    expect(r.json).toEqual({
      ok: true,
      elements: [
        {
          by: ['spiffe://cluster.local/ns/shop/sa/orders'],
          hash: ['abc123'],
          subject: ['CN=web,O="Acme"'],
          uri: ['spiffe://cluster.local/ns/shop/sa/web'],
          dns: ['web.shop'],
          'x-custom': ['1'],
        },
      ],
      caller: 'spiffe://cluster.local/ns/shop/sa/web',
    })
  })

  test('the last element names the caller; --trusted-hops picks an earlier one; --by is checked', async () => {
    const header =
      'By=spiffe://a.test/gw;URI=spiffe://a.test/client,By=spiffe://a.test/api;URI=spiffe://a.test/gw'
    expect((await runCli(['xfcc', header, '--json'])).json).toMatchObject({ caller: 'spiffe://a.test/gw' })
    expect((await runCli(['xfcc', header, '--trusted-hops', '2', '--json'])).json).toMatchObject({
      caller: 'spiffe://a.test/client',
    })
    expect((await runCli(['xfcc', header, '--by', 'spiffe://a.test/api', '--json'])).code).toBe(0)
    const wrongBy = await runCli(['xfcc', header, '--by', 'spiffe://a.test/other', '--json'])
    expect(wrongBy.code).toBe(1)
    expect(wrongBy.json).toMatchObject({
      ok: true,
      caller: null,
      callerError: { code: 'ERR_XFCC_BY_MISMATCH' },
    })
    expect(wrongBy.json?.elements).toHaveLength(2)
  })

  test('parses but no acceptable caller: caller null, callerError, exit 1', async () => {
    for (const [header, code] of [
      ['By=spiffe://a.test/api;URI=', 'ERR_XFCC_NO_URI'],
      ['URI=spiffe://a.test/x;URI=spiffe://a.test/y', 'ERR_XFCC_MULTIPLE_URIS'],
      ['URI=https://a.test/x', 'ERR_XFCC_INVALID_URI'],
    ] as const) {
      const r = await runCli(['xfcc', header, '--json'])
      expect(r.code, header).toBe(1)
      expect(r.json).toMatchObject({ ok: true, caller: null, callerError: { code } })
    }
    const hops = await runCli(['xfcc', 'URI=spiffe://a.test/x', '--trusted-hops', '3', '--json'])
    expect(hops.json).toMatchObject({ caller: null, callerError: { code: 'ERR_XFCC_HOPS' } })
  })

  test('malformed header: ok false, exit 1; bad --trusted-hops: exit 2', async () => {
    for (const header of ['URI="spiffe://a.test/x', 'URI', '', 'a=b;;c']) {
      const r = await runCli(['xfcc', header, '--json'])
      expect(r.code, header).toBe(1)
      expect(r.json).toMatchObject({ ok: false, code: expect.stringMatching(/^ERR_XFCC_/) })
    }
    expect((await runCli(['xfcc', 'URI=spiffe://a/b', '--trusted-hops', 'x', '--json'])).code).toBe(2)
    expect((await runCli(['xfcc', 'URI=spiffe://a/b', '--trusted-hops', '0', '--json'])).code).toBe(2)
  })
})

describe('svidkit policy', () => {
  let dir: string
  beforeAll(() => {
    dir = tempDir()
    writeFileSync(
      join(dir, 'policy.yaml'),
      [
        'identity:',
        '  template: /tenant/{tenant}/{service}',
        'rules:',
        '  - id: no-cross-tenant',
        '    action: DENY',
        '    boundary: { tenant: { notSameAs: self } }',
        '  - id: read-orders',
        '    from: [{ principals: ["spiffe://example.org/tenant/{*}/web"] }]',
        '    to: [{ methods: [GET], paths: ["/orders/{*}"] }]',
        '  - id: grpc-get',
        '    to: [{ grpcMethods: ["/orders.v1.Orders/Get"] }]',
        '    scopes: { allOf: [orders.read] }',
        '',
      ].join('\n'),
    )
    writeFileSync(join(dir, 'bad.yaml'), 'rules:\n  - id: x\n    principalz: [a]\n')
  })
  const base = () => [
    'policy',
    'check',
    '--policy',
    join(dir, 'policy.yaml'),
    '--self',
    'spiffe://example.org/tenant/acme/orders',
  ]

  test('allow: exit 0 with the rule and reason', async () => {
    const r = await runCli([
      ...base(),
      '--caller',
      'spiffe://example.org/tenant/acme/web',
      '--method',
      'GET',
      '--path',
      '/orders/1',
      '--json',
    ])
    expect(r.code).toBe(0)
    expect(r.json).toEqual({
      ok: true,
      decision: 'allow',
      rule: 'read-orders',
      reason: expect.stringContaining('read-orders'),
    })
  })

  test('deny: cross-tenant boundary rule, exit 1', async () => {
    const r = await runCli([
      ...base(),
      '--caller',
      'spiffe://example.org/tenant/globex/web',
      '--method',
      'GET',
      '--path',
      '/orders/1',
      '--json',
    ])
    expect(r.code).toBe(1)
    expect(r.json).toMatchObject({ ok: true, decision: 'deny', rule: 'no-cross-tenant' })
  })

  test('gRPC with scopes', async () => {
    const args = [
      ...base(),
      '--caller',
      'spiffe://example.org/tenant/acme/web',
      '--channel',
      'jwt',
      '--grpc-method',
      '/orders.v1.Orders/Get',
      '--json',
    ]
    expect((await runCli(args)).json).toMatchObject({ decision: 'deny' })
    expect((await runCli([...args, '--scope', 'orders.read'])).json).toMatchObject({
      decision: 'allow',
      rule: 'grpc-get',
    })
  })

  test('usage errors exit 2; a bad policy or caller exits 1', async () => {
    expect((await runCli([...base(), '--caller', 'spiffe://example.org/x', '--json'])).code).toBe(2)
    expect(
      (
        await runCli([
          ...base(),
          '--caller',
          'spiffe://example.org/x',
          '--method',
          'GET',
          '--path',
          '/',
          '--grpc-method',
          '/a.B/C',
          '--json',
        ])
      ).code,
    ).toBe(2)
    expect(
      (
        await runCli([
          ...base(),
          '--caller',
          'spiffe://example.org/x',
          '--channel',
          'carrier-pigeon',
          '--method',
          'GET',
          '--path',
          '/',
          '--json',
        ])
      ).code,
    ).toBe(2)
    const badCaller = await runCli([
      ...base(),
      '--caller',
      'not-an-id',
      '--method',
      'GET',
      '--path',
      '/',
      '--json',
    ])
    expect(badCaller.code).toBe(1)
    expect(badCaller.json).toMatchObject({ ok: false, code: 'ERR_SPIFFE_ID_SCHEME' })
    const badPolicy = await runCli([
      'policy',
      'check',
      '--policy',
      join(dir, 'bad.yaml'),
      '--self',
      'spiffe://e.org/x',
      '--caller',
      'spiffe://e.org/y',
      '--method',
      'GET',
      '--path',
      '/',
      '--json',
    ])
    expect(badPolicy.code).toBe(1)
    expect(badPolicy.json).toMatchObject({ ok: false, code: 'ERR_POLICY_INVALID' })
  })

  test('oidc callers are { iss, sub }', async () => {
    const r = await runCli([
      ...base(),
      '--issuer',
      'https://login.example.com',
      '--caller',
      'alice',
      '--method',
      'GET',
      '--path',
      '/orders/1',
      '--json',
    ])
    expect(r.json).toMatchObject({ ok: true, decision: 'deny' })
  })

  test('lint: problems with positions', async () => {
    const good = await runCli(['policy', 'lint', join(dir, 'policy.yaml'), '--json'])
    expect(good.code).toBe(0)
    const bad = await runCli(['policy', 'lint', join(dir, 'bad.yaml'), '--json'])
    expect(bad.code).toBe(1)
    expect(bad.json).toMatchObject({
      ok: false,
      code: 'ERR_POLICY_INVALID',
      problems: [expect.objectContaining({ severity: 'error', line: 3 })],
    })
  })
})
