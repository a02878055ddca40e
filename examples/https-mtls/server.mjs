// An mTLS HTTPS server on the dev Workload API agent: it presents the SVID of spiffe://example.org/api,
// admits only spiffe://example.org/web, and rotates its certificate as the agent re-issues it.
//
//   node server.mjs          # then, in another terminal: node client.mjs
//   node server.mjs --demo   # runs client.mjs once, then exits with its status
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { authorizeId } from '@svidkit/core/policy'
import { createMtlsServerConfig, getTlsCaller } from '@svidkit/core/tls'
import { X509Source } from '@svidkit/core/workload-api'
import { DevAgent } from '@svidkit/testing'

const STATE_FILE = join(tmpdir(), 'svidkit-https-mtls-example.json')

// 1. The dev agent: one Workload API socket per workload (it attests callers by socket).
const dir = mkdtempSync(join(tmpdir(), 'svidkit-example-'))
const agent = await DevAgent.start({
  trustDomain: 'example.org',
  sockets: ['api', 'web', 'batch'].map((name) => ({
    name,
    socketPath: join(dir, `${name}.sock`),
    identities: [{ spiffeId: `/${name}` }],
  })),
  svidTtlSeconds: 30, // re-issued every 15 s: the server picks each new SVID up without restarting
})
const socketOf = (name) => agent.sockets.find((s) => s.name === name).address

// 2. The server's own identity, live from the agent.
const source = await X509Source.create({ address: socketOf('api'), timeoutMs: 10_000 })
source.on('update', () =>
  console.log(`[server] SVID rotated, now valid until ${source.getX509Svid().expiresAt.toISOString()}`),
)

// 3. mTLS: present the SVID, verify clients against their trust domain's bundle, admit only /web.
const mtls = createMtlsServerConfig({ source, authorize: authorizeId('spiffe://example.org/web') })
const server = mtls.attach(
  https.createServer(mtls.serverOptions, (req, res) => {
    const caller = getTlsCaller(req) // set once per connection; unverified peers never get here
    console.log(`[server] ${req.method} ${req.url} from ${caller.spiffeId}`)
    res.setHeader('content-type', 'text/plain')
    res.end(`hello ${caller.spiffeId}, this is ${source.getX509Svid().id}\n`)
  }),
)
server.on('tlsClientError', (err) => {
  const who = err.details?.peer ?? 'a peer without an acceptable SVID'
  console.log(`[server] refused ${who}: ${err.code ?? err.message}`)
})
await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve))
const url = `https://127.0.0.1:${server.address().port}`

writeFileSync(
  STATE_FILE,
  JSON.stringify({
    url,
    serverId: 'spiffe://example.org/api',
    sockets: { web: socketOf('web'), batch: socketOf('batch') },
  }),
)
console.log(`[server] listening on ${url} as ${source.getX509Svid().id}`)

async function shutdown(code = 0) {
  server.closeAllConnections?.()
  await new Promise((resolve) => server.close(resolve))
  await source.close()
  await agent.close()
  rmSync(STATE_FILE, { force: true })
  rmSync(dir, { recursive: true, force: true })
  process.exit(code)
}
process.once('SIGINT', () => shutdown(0))
process.once('SIGTERM', () => shutdown(0))

if (process.argv.includes('--demo')) {
  const client = spawn(process.execPath, [new URL('./client.mjs', import.meta.url).pathname], {
    stdio: 'inherit',
  })
  const timer = setTimeout(() => client.kill(), 30_000)
  client.on('exit', (code) => {
    clearTimeout(timer)
    shutdown(code ?? 1)
  })
}
