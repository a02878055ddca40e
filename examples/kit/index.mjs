// Runs a framework example on its own: the svidkit dev agent (a stand-in for a SPIRE agent: one
// Workload API socket per workload), the example's server.mjs in its own process with
// SPIFFE_ENDPOINT_SOCKET set to its socket (as a SPIRE agent would give it), and callers that present
// their own X.509-SVIDs over mTLS and check the server's SPIFFE ID before sending anything.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import https from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { matchId } from '@svidkit/core/spiffe-id'
import { createSpiffeHttpsAgent } from '@svidkit/core/tls'
import { X509Source } from '@svidkit/core/workload-api'
import { DevAgent } from '@svidkit/testing'

/** The workloads of every example: the service, a caller its policy allows and one it refuses. */
export const workloads = {
  orders: 'spiffe://example.org/ns/shop/sa/orders',
  web: 'spiffe://example.org/ns/shop/sa/web',
  batch: 'spiffe://example.org/ns/batch/sa/report',
}

/**
 * Brings the built packages up to date (`tsc -b`, a no-op after `pnpm build`): the examples import
 * their dist/, as an application would.
 */
export function buildPackages() {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json'], {
    cwd: root,
    stdio: 'inherit',
  })
}

/**
 * Starts the agent, the server (`serverFile`, run with cwd = its folder, its audit events written to
 * `auditLog`, default a file in a temp dir) and the callers.
 * @param {URL} serverFile
 * @param {{ auditLog?: string }} [options]
 * @returns {Promise<{ url: string, output: () => string, call: (caller: 'web' | 'batch', path: string) => Promise<{ status: number, body: unknown }>, close: () => Promise<void> }>}
 */
export async function startExample(serverFile, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'svidkit-example-'))
  const agent = await DevAgent.start({
    trustDomain: 'example.org',
    sockets: Object.entries(workloads).map(([name, spiffeId]) => ({
      name,
      socketPath: join(dir, `${name}.sock`),
      identities: [{ spiffeId }],
    })),
  })
  const socket = (name) => agent.sockets.find((s) => s.name === name).address
  const serverPath = fileURLToPath(serverFile)
  const server = spawn(process.execPath, [serverPath], {
    cwd: fileURLToPath(new URL('.', serverFile)),
    env: {
      ...process.env,
      SPIFFE_ENDPOINT_SOCKET: socket('orders'),
      PORT: '0',
      AUDIT_LOG: options.auditLog ?? join(dir, 'audit.jsonl'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const sources = []
  const agents = []
  const close = async () => {
    for (const a of agents) a.destroy()
    await Promise.all(sources.map((s) => s.close()))
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM')
      await new Promise((resolve) => server.once('exit', resolve))
    }
    await agent.close()
    rmSync(dir, { recursive: true, force: true })
  }
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 20 s:\n${output}`)), 20_000)
    const read = (chunk) => {
      output += chunk.toString('utf8')
      const m = /listening on (https:\/\/[^\s]+)/.exec(output)
      if (m) {
        clearTimeout(timer)
        resolve(m[1].replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1'))
      }
    }
    server.stdout.on('data', read)
    server.stderr.on('data', read)
    server.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the server exited (${code}) before listening:\n${output}`))
    })
  }).catch(async (err) => {
    await close()
    throw err
  })

  const callers = {}
  for (const name of ['web', 'batch']) {
    const source = await X509Source.create({ address: socket(name), timeoutMs: 10_000 })
    sources.push(source)
    const httpsAgent = createSpiffeHttpsAgent({
      source,
      authorize: matchId(workloads.orders),
      keepAlive: false,
    })
    agents.push(httpsAgent)
    callers[name] = httpsAgent
  }
  const call = (caller, path) =>
    new Promise((resolve, reject) => {
      const req = https.get(new URL(path, url), { agent: callers[caller], timeout: 5_000 }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c) => {
          text += c
        })
        res.on('end', () => {
          let body = text
          try {
            body = JSON.parse(text)
          } catch {}
          resolve({ status: res.statusCode, body })
        })
      })
      req.once('timeout', () => req.destroy(new Error(`GET ${path} timed out`)))
      req.once('error', reject)
    })
  return { url, output: () => output, call, close }
}

/**
 * `node run.mjs` in an example: starts it, makes the allowed and the refused call, prints both, and
 * exits 0 only when web got 200 and batch got 403. The server's audit events go to `audit.jsonl`
 * next to it (for `svidkit policy replay`).
 * @param {URL} serverFile
 * @param {string} path
 */
export async function runExample(serverFile, path) {
  buildPackages()
  const auditLog = fileURLToPath(new URL('audit.jsonl', serverFile))
  rmSync(auditLog, { force: true })
  const example = await startExample(serverFile, { auditLog })
  process.once('SIGINT', () => example.close().then(() => process.exit(130)))
  console.log(`server ${workloads.orders} on ${example.url}`)
  const seen = {}
  for (const caller of ['web', 'batch']) {
    const { status, body } = await example.call(caller, path)
    seen[caller] = status
    const what = status === 200 ? JSON.stringify(body) : `${body?.code}: ${body?.message}`
    console.log(`${caller.padEnd(5)} ${workloads[caller]}  GET ${path}  →  ${status} ${what}`)
  }
  await example.close()
  console.log(`audit events: ${auditLog}`)
  process.exitCode = seen.web === 200 && seen.batch === 403 ? 0 : 1
}
