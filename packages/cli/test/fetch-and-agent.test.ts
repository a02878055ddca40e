import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DevAgent } from '@svidkit/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runCli } from './run-cli.js'

let dir: string
let agent: DevAgent

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svidkit-fetch-'))
  agent = await DevAgent.start({
    trustDomain: 'example.org',
    socketPath: join(dir, 'agent.sock'),
    identities: [{ spiffeId: '/web' }, { spiffeId: '/web-ext', hint: 'external' }],
    federation: ['partner.org'],
  })
})
afterAll(async () => agent.close())

describe('svidkit fetch', () => {
  test('x509: SPIFFE ID, expiry, bundle trust domains; writes spiffe-helper files', async () => {
    const out = join(dir, 'out')
    const r = await runCli(['fetch', 'x509', '--socket', agent.address, '--write-dir', out, '--json'])
    expect(r.code).toBe(0)
    expect(r.json).toMatchObject({
      ok: true,
      spiffeId: 'spiffe://example.org/web',
      expiresAt: expect.stringMatching(/Z$/),
      trustDomains: ['example.org', 'partner.org'],
      svids: [
        { spiffeId: 'spiffe://example.org/web' },
        { spiffeId: 'spiffe://example.org/web-ext', hint: 'external' },
      ],
    })
    expect(readFileSync(join(out, 'svid.pem'), 'utf8')).toContain('BEGIN CERTIFICATE')
    expect(statSync(join(out, 'svid_key.pem')).mode & 0o777).toBe(0o600)
    expect(existsSync(join(out, 'svid_bundle.pem'))).toBe(true)
    expect(existsSync(join(out, 'federated_bundle.partner.org.pem'))).toBe(true)
  })

  test('x509 from SPIFFE_ENDPOINT_SOCKET', async () => {
    process.env.SPIFFE_ENDPOINT_SOCKET = agent.address
    try {
      expect((await runCli(['fetch', 'x509', '--json'])).json).toMatchObject({
        ok: true,
        spiffeId: 'spiffe://example.org/web',
      })
    } finally {
      delete process.env.SPIFFE_ENDPOINT_SOCKET
    }
  })

  test('jwt: token and claims for an audience', async () => {
    const r = await runCli(['fetch', 'jwt', '--socket', agent.address, '--audience', 'orders', '--json'])
    expect(r.code).toBe(0)
    expect(r.json).toMatchObject({
      ok: true,
      spiffeId: 'spiffe://example.org/web',
      audience: ['orders'],
      token: expect.stringMatching(/^ey/),
      claims: { sub: 'spiffe://example.org/web', aud: 'orders' },
    })
    const other = await runCli([
      'fetch',
      'jwt',
      '--socket',
      agent.address,
      '--audience',
      'a',
      '--spiffe-id',
      'spiffe://example.org/web-ext',
      '--json',
    ])
    expect(other.json).toMatchObject({ spiffeId: 'spiffe://example.org/web-ext' })
  })

  test('bundles per trust domain', async () => {
    const r = await runCli(['fetch', 'bundles', '--socket', agent.address, '--json'])
    expect(r.json).toMatchObject({
      ok: true,
      trustDomains: [
        { trustDomain: 'example.org', x509Authorities: 1, jwtAuthorities: 1 },
        { trustDomain: 'partner.org', x509Authorities: 1, jwtAuthorities: 1 },
      ],
    })
  })

  test("bundles --write saves a bundle map that verifies the agent's JWT-SVIDs", async () => {
    const file = join(dir, 'bundles.json')
    const w = await runCli(['fetch', 'bundles', '--socket', agent.address, '--write', file, '--json'])
    expect(w.json).toMatchObject({ ok: true, written: [file] })
    const token = (
      await runCli(['fetch', 'jwt', '--socket', agent.address, '--audience', 'orders', '--json'])
    ).json!.token as string
    const v = await runCli(['jwt', 'verify', token, '--bundle', file, '--audience', 'orders', '--json'])
    expect(v.json).toMatchObject({ ok: true, spiffeId: 'spiffe://example.org/web' })
  })

  test('errors: bad address is exit 1 with a code; unreachable socket times out; missing --audience is exit 2', async () => {
    expect((await runCli(['fetch', 'x509', '--socket', 'unix://relative', '--json'])).json).toMatchObject({
      ok: false,
      code: 'ERR_WORKLOAD_API_ADDRESS_INVALID',
    })
    const down = await runCli([
      'fetch',
      'x509',
      '--socket',
      `unix://${join(dir, 'nope.sock')}`,
      '--timeout',
      '0.5',
      '--json',
    ])
    expect(down.code).toBe(1)
    expect(down.json).toMatchObject({ ok: false, code: expect.stringMatching(/^ERR_WORKLOAD_API_/) })
    expect((await runCli(['fetch', 'jwt', '--socket', agent.address, '--json'])).code).toBe(2)
  })
})

describe('svidkit agent (the built binary)', () => {
  test('serves the Workload API until SIGTERM', async () => {
    const bin = join(__dirname, '..', 'bin', 'svidkit.js')
    const socket = join(dir, 'cli-agent.sock')
    const child = spawn(
      process.execPath,
      [bin, 'agent', '--socket', socket, '--trust-domain', 'demo.test', '--id', '/svc', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = ''
        child.stdout.on('data', (d: Buffer) => {
          buf += d
          if (buf.includes('\n')) resolve(buf.split('\n')[0]!)
        })
        child.on('exit', (code) => reject(new Error(`agent exited ${code}`)))
        setTimeout(() => reject(new Error('agent did not start')), 15_000)
      })
      expect(JSON.parse(line)).toEqual({
        ok: true,
        address: `unix://${socket}`,
        trustDomain: 'demo.test',
        sockets: [{ address: `unix://${socket}`, identities: ['spiffe://demo.test/svc'] }],
      })
      expect((await runCli(['fetch', 'x509', '--socket', `unix://${socket}`, '--json'])).json).toMatchObject({
        spiffeId: 'spiffe://demo.test/svc',
      })
    } finally {
      child.kill('SIGTERM')
    }
    const code = await new Promise<number | null>((r) => child.on('exit', r))
    expect(code).toBe(0)
  }, 30_000)
})
