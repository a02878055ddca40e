// A tiny closed-loop HTTPS load client for the TLS configurations, which autocannon cannot drive
// (it cannot present a client certificate). It plays autocannon's role exactly: `-c` kept-alive
// connections (undici Pool, pipelining 1), one request in flight per connection, the same two
// request headers, for a fixed duration, then prints an autocannon-like JSON summary. The client
// always offers the fixture's client certificate; a plain TLS server simply does not ask for it.
//
//   node bench/http/tls-load.mjs --url https://127.0.0.1:PORT/hello --fixture FILE [-c 10] [-d 10] [-j]
import { readFileSync } from 'node:fs'
import { Pool } from 'undici'

const args = process.argv.slice(2)
const arg = (names, fallback) => {
  for (const name of names) {
    const i = args.indexOf(name)
    if (i !== -1) return args[i + 1]
  }
  return fallback
}
const url = new URL(arg(['--url'], ''))
const fixture = JSON.parse(readFileSync(arg(['--fixture'], ''), 'utf8'))
const connections = Number(arg(['-c', '--connections'], '10'))
const seconds = Number(arg(['-d', '--duration'], '10'))
const json = args.includes('-j') || args.includes('--json')

const headers = { authorization: `Bearer ${fixture.token}`, 'x-forwarded-client-cert': fixture.xfcc }
const pool = new Pool(url.origin, {
  connections,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  connect: {
    ca: fixture.caPem,
    cert: fixture.client.cert,
    key: fixture.client.key,
    rejectUnauthorized: true,
    maxCachedSessions: 0,
    // The server's SVID has no IP SAN for 127.0.0.1; the chain is still checked against the CA.
    checkServerIdentity: () => undefined,
  },
})

const latencies = []
let ok = 0
let non2xx = 0
let errors = 0
let bytes = 0
const start = performance.now()
const deadline = start + seconds * 1000

async function worker() {
  while (performance.now() < deadline) {
    const t0 = performance.now()
    try {
      const { statusCode, body } = await pool.request({ path: url.pathname, method: 'GET', headers })
      const text = await body.text()
      bytes += text.length
      if (statusCode >= 200 && statusCode < 300) ok++
      else non2xx++
      latencies.push(performance.now() - t0)
    } catch {
      errors++
    }
  }
}

await Promise.all(Array.from({ length: connections }, worker))
const elapsed = (performance.now() - start) / 1000
await pool.close()

latencies.sort((a, b) => a - b)
const pct = (p) =>
  latencies.length === 0
    ? 0
    : latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]
const total = ok + non2xx
const result = {
  url: url.href,
  connections,
  pipelining: 1,
  duration: elapsed,
  requests: { total, average: total / elapsed, sent: total + errors },
  latency: {
    average: latencies.reduce((s, x) => s + x, 0) / Math.max(1, latencies.length),
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    p99_9: pct(99.9),
    max: latencies.at(-1) ?? 0,
  },
  throughput: { total: bytes },
  '2xx': ok,
  non2xx,
  errors,
  timeouts: 0,
}
if (json) process.stdout.write(`${JSON.stringify(result)}\n`)
else
  console.log(
    `${url.href}: ${result.requests.average.toFixed(0)} req/s over ${elapsed.toFixed(1)} s, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms, non-2xx ${non2xx}, errors ${errors}`,
  )
