import { execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DevAgent } from '@svidkit/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runCli, useTempDir } from './run-cli.js'

const tempDir = useTempDir('svidkit-fetch-')

let dir: string
let agent: DevAgent

beforeAll(async () => {
  dir = tempDir()
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

describe('svidkit fetch: output errors name the path and the reason (issue 16)', () => {
  const outputError = async (args: string[], path: string, reason: string) => {
    const r = await runCli([...args, '--socket', agent.address, '--json'])
    expect(r.code, JSON.stringify(r.json)).toBe(1)
    expect(r.json).toMatchObject({ ok: false, code: 'ERR_CLI_OUTPUT' })
    expect(r.json!.message).toBe(`cli: ${reason.replace('%s', path)}`)
    const human = await runCli([...args, '--socket', agent.address])
    expect(human.code).toBe(1)
    expect(human.stderr).toContain(`"${path}"`)
    expect(human.stderr).toContain('(ERR_CLI_OUTPUT)')
  }

  test('x509 --write-dir an existing file', async () => {
    const file = join(dir, 'a-file')
    writeFileSync(file, 'x')
    await outputError(
      ['fetch', 'x509', '--write-dir', file],
      file,
      'output folder "%s": exists and is not a folder',
    )
    const below = join(file, 'sub')
    await outputError(
      ['fetch', 'x509', '--write-dir', below],
      below,
      'output folder "%s": a parent is not a folder',
    )
  })

  test('bundles --write a path in a missing folder, and --write .', async () => {
    const missing = join(dir, 'no-such-folder', 'bundles.json')
    await outputError(['fetch', 'bundles', '--write', missing], missing, 'output file "%s": no such folder')
    await outputError(['fetch', 'bundles', '--write', '.'], '.', 'output file "%s": is a folder, not a file')
  })

  test('x509 --write-dir creates missing parents', async () => {
    const deep = join(dir, 'a', 'b', 'c')
    const r = await runCli(['fetch', 'x509', '--socket', agent.address, '--write-dir', deep, '--json'])
    expect(r.code).toBe(0)
    expect(existsSync(join(deep, 'svid.pem'))).toBe(true)
  })

  // Node's recursive mkdirSync loops forever at 100% CPU under /proc; run the built binary in a child
  // process with a timeout so that a regression fails this test instead of hanging the whole run.
  test('x509 --write-dir under /proc answers at once instead of hanging', async () => {
    const bin = join(__dirname, '..', 'bin', 'svidkit.js')
    const args = [
      'fetch',
      'x509',
      '--socket',
      agent.address,
      '--write-dir',
      '/proc/svidkit-test/out',
      '--json',
    ]
    const r = await new Promise<{ status: number | null; signal: string | null; stdout: string }>(
      (resolve) => {
        const child = execFile(process.execPath, [bin, ...args], { timeout: 15_000 }, (err, stdout) =>
          resolve({ status: child.exitCode, signal: err?.signal ?? null, stdout }),
        )
      },
    )
    expect(r.signal, 'the command was killed after 15 s: it hung').toBeNull()
    expect(r.status).toBe(1)
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      code: 'ERR_CLI_OUTPUT',
      message: 'cli: output folder "/proc/svidkit-test/out": cannot create a folder there (ENOENT)',
    })
  }, 30_000)
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

  test('--ca-dir: an agent killed (SIGKILL) and restarted serves the same bundle', async () => {
    const bin = join(__dirname, '..', 'bin', 'svidkit.js')
    const socket = join(dir, 'ca-dir-agent.sock')
    const caDir = join(dir, 'agent-ca')
    const run = async () => {
      const child = spawn(
        process.execPath,
        [
          bin,
          'agent',
          '--socket',
          socket,
          '--trust-domain',
          'demo.test',
          '--id',
          '/svc',
          '--ca-dir',
          caDir,
          '--json',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => (String(d).includes('\n') ? resolve() : undefined))
        child.on('exit', (c) => reject(new Error(`agent exited ${c}`)))
        setTimeout(() => reject(new Error('agent did not start')), 15_000)
      })
      const file = join(dir, `bundles-${Date.now()}.json`)
      const r = await runCli(['fetch', 'bundles', '--socket', `unix://${socket}`, '--write', file, '--json'])
      expect(r.code).toBe(0)
      child.kill('SIGKILL')
      await new Promise((r) => child.on('exit', r))
      return JSON.parse(readFileSync(file, 'utf8')) as unknown
    }
    const first = await run()
    expect(statSync(join(caDir, 'ca.json')).mode & 0o777).toBe(0o600)
    const second = await run()
    expect(second).toEqual(first)
    const other = await runCli([
      'agent',
      '--socket',
      socket,
      '--trust-domain',
      'other.test',
      '--ca-dir',
      caDir,
      '--json',
    ])
    expect(other.code).toBe(2)
    expect(other.json).toMatchObject({ ok: false, code: 'ERR_CLI_USAGE' })
  }, 60_000)
})
