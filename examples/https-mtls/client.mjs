// Two workloads call the server with undici's fetch over mTLS: /web is allowed, /batch is refused.
// Each client verifies that the server really is spiffe://example.org/api before sending anything.
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { authorizeId } from '@svidkit/core/policy'
import { createSpiffeDispatcher } from '@svidkit/core/tls'
import { X509Source } from '@svidkit/core/workload-api'
import { fetch } from 'undici'

const STATE_FILE = join(tmpdir(), 'svidkit-https-mtls-example.json')
let state
try {
  state = JSON.parse(readFileSync(STATE_FILE, 'utf8'))
} catch {
  console.error('start the server first: node server.mjs')
  process.exit(2)
}

/** The first svidkit error code in an error's cause chain (fetch wraps connection errors). */
function codeOf(err) {
  for (let e = err; e; e = e.cause) if (e.code) return e.code
  return err?.message
}

const results = {}
for (const workload of ['web', 'batch']) {
  const source = await X509Source.create({ address: state.sockets[workload], timeoutMs: 10_000 })
  const me = source.getX509Svid().id
  // Must be undici's own fetch: Node 20's global fetch bundles another undici.
  const dispatcher = createSpiffeDispatcher({ source, authorize: authorizeId(state.serverId) })
  try {
    const res = await fetch(`${state.url}/hello`, { dispatcher, signal: AbortSignal.timeout(5_000) })
    console.log(`[client ${me}] ${res.status}: ${(await res.text()).trim()}`)
    results[workload] = res.status
  } catch (err) {
    console.log(`[client ${me}] refused by the server (${codeOf(err)})`)
    results[workload] = 'refused'
  } finally {
    await dispatcher.close()
    await source.close()
  }
}

// The demo succeeds when /web got in and /batch did not.
process.exit(results.web === 200 && results.batch === 'refused' ? 0 : 1)
