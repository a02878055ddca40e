import {
  BundleSource,
  fetchX509Svid,
  JwtSource,
  WorkloadApiClient,
  X509Source,
} from '@svidkit/core/workload-api'
import { DevAgent } from '@svidkit/testing'
import { expect, test } from 'vitest'

/** Resources keeping the event loop alive, by type (unref'd timers are not listed). */
function resources(): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1
  return out
}

/** Resources once they match `expected` (checked every 50 ms for up to `ms`), else the last ones seen. */
async function resourcesWithin(expected: Record<string, number>, ms = 2000): Promise<Record<string, number>> {
  const deadline = Date.now() + ms
  let now = resources()
  while (JSON.stringify(now) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
    now = resources()
  }
  return now
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20))
}

test('no timer or socket is left open after close() (sources, clients, one-shots, watches)', async () => {
  await settle()
  const before = resources()
  const agent = await DevAgent.start({
    identities: [{ spiffeId: '/web' }],
    allowUnauthenticatedVerifiers: true,
    federation: ['partner.org'],
    bundleEndpoint: true,
    svidTtlSeconds: 2,
  })
  await settle()
  const withAgent = resources()

  const backoff = { initialMs: 30, maxMs: 100 }
  const x509 = await X509Source.create({ address: agent.address, backoff })
  const jwt = await JwtSource.create({ address: agent.address, backoff })
  const bundles = await BundleSource.create({ address: agent.address, backoff })
  await jwt.fetchJwtSvid({ audience: 'a' })
  await fetchX509Svid({ address: agent.address })
  const client = new WorkloadApiClient({ address: agent.address })
  const ac = new AbortController()
  const watch = client.watchJwtBundles({ onUpdate: () => undefined }, { signal: ac.signal })
  await settle()
  expect(resources()).not.toEqual(withAgent) // the streams are open
  await Promise.all([x509.close(), jwt.close(), bundles.close()])
  ac.abort()
  await watch
  client.close()
  await settle()
  expect(resources()).toEqual(withAgent)

  await agent.close()
  await settle()
  expect(resources()).toEqual(before)
})

test('sources closed while the agent is down (in retry backoff) leave nothing running', async () => {
  await settle()
  const before = resources()
  const agent = await DevAgent.start({
    identities: [{ spiffeId: '/web' }],
    allowUnauthenticatedVerifiers: true,
  })
  const backoff = { initialMs: 30, maxMs: 100 }
  const x509 = await X509Source.create({ address: agent.address, backoff })
  const jwt = await JwtSource.create({ address: agent.address, backoff })
  const bundles = await BundleSource.create({ address: agent.address, backoff })
  const client = new WorkloadApiClient({ address: agent.address })
  const ac = new AbortController()
  const watch = client.watchX509Context({ onUpdate: () => undefined }, { signal: ac.signal })
  await agent.stop() // kill the agent under the open streams: everything is now retrying
  await new Promise((r) => setTimeout(r, 150))
  await Promise.all([x509.close(), jwt.close(), bundles.close()])
  ac.abort()
  await watch
  client.close()
  await agent.close()
  // grpc-js may still finish one reconnect attempt that was due (it fails at once: no socket file).
  expect(await resourcesWithin(before)).toEqual(before)
  // Note (grpc-js): a channel closed while its connection is in reconnect backoff makes one more
  // connection attempt when that backoff ends (at most grpc.max_reconnect_backoff_ms later); were the
  // agent back by then, that idle, unref'd connection would linger until grpc-js's subchannel pool
  // sweeps it (~10 s). It never keeps the process alive (see the child-process test below).
})

test('a source whose create() times out leaves nothing running', async () => {
  await settle()
  const before = resources()
  await expect(
    X509Source.create({
      address: 'unix:///tmp/svidkit-nothing-here.sock',
      timeoutMs: 200,
      backoff: { initialMs: 20 },
    }),
  ).rejects.toMatchObject({ code: 'ERR_SOURCE_TIMEOUT' })
  // Bounded wait: on a loaded machine grpc-js needs a moment to release the failed connection.
  expect(await resourcesWithin(before)).toEqual(before)
})

test('a child process that starts an agent, creates and closes every source, exits on its own', async () => {
  const { build } = await import('esbuild')
  const { spawn } = await import('node:child_process')
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'svidkit-exit-'))
  try {
    const outfile = join(dir, 'child.cjs')
    await build({
      stdin: {
        contents: `
          import { BundleSource, JwtSource, X509Source, fetchX509Svid } from '@svidkit/core/workload-api'
          import { DevAgent } from '@svidkit/testing'
          async function main() {
            const agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }], svidTtlSeconds: 2,
              federation: ['partner.org'], bundleEndpoint: true, allowUnauthenticatedVerifiers: true })
            const x = await X509Source.create({ address: agent.address })
            const j = await JwtSource.create({ address: agent.address })
            const b = await BundleSource.create({ address: agent.address })
            await j.fetchJwtSvid({ audience: 'a' })
            await fetchX509Svid({ address: agent.address })
            await Promise.all([x.close(), j.close(), b.close()])
            await agent.close()
            console.log('closed')
          }
          main().catch((e) => { console.error(e); process.exit(1) })
        `,
        resolveDir: import.meta.dirname,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      conditions: ['svidkit-source'],
      outfile,
      logLevel: 'silent',
    })
    const result = await new Promise<{ code: number | null; out: string; ms: number }>((resolve) => {
      const started = Date.now()
      const child = spawn(process.execPath, [outfile], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
      })
      child.stderr.on('data', (d) => {
        out += d
      })
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      child.on('exit', (code) => {
        clearTimeout(killer)
        resolve({ code, out, ms: Date.now() - started })
      })
    })
    expect(result.out).toContain('closed')
    expect(result.code).toBe(0)
    expect(result.ms).toBeLessThan(15_000)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 30_000)
