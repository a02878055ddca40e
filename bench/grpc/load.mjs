// The closed-loop load client (ghz-style): one grpc-js channel with mTLS, `--concurrency` callers each
// sending the next unary call as soon as the previous one answered. Every call of every configuration
// carries the same metadata (`authorization: Bearer <JWT-SVID>`). A warm-up is thrown away; then it
// prints `START`, measures for `--duration` seconds, prints `STOP` and one JSON line.
//
//   node bench/grpc/load.mjs <port> <fixture.json> [--duration 10] [--warmup 3] [--concurrency 10]
import * as grpc from '@grpc/grpc-js'
import { readFixture } from '../http/fixture.mjs'
import { ECHO, REQUEST, SERVICE } from './common.mjs'

const [portText, fixtureFile, ...rest] = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = rest.indexOf(name)
  return i === -1 ? fallback : Number(rest[i + 1])
}
const duration = opt('--duration', 10)
const warmup = opt('--warmup', 3)
const concurrency = opt('--concurrency', 10)
const fx = readFixture(fixtureFile)

const Client = grpc.makeGenericClientConstructor(ECHO, SERVICE)
const credentials = grpc.credentials.createSsl(
  Buffer.from(fx.caPem),
  Buffer.from(fx.client.key),
  Buffer.from(fx.client.cert),
  { checkServerIdentity: () => undefined },
)
const client = new Client(`127.0.0.1:${portText}`, credentials, {
  'grpc.ssl_target_name_override': 'bench.example.org',
})
const metadata = new grpc.Metadata()
metadata.set('authorization', `Bearer ${fx.token}`)

const once = () =>
  new Promise((resolve, reject) =>
    client.unary(REQUEST, metadata.clone(), (err) => (err ? reject(err) : resolve())),
  )

async function phase(seconds, record) {
  const until = performance.now() + seconds * 1000
  let calls = 0
  let errors = 0
  let firstError
  const latencies = record ? [] : undefined
  const caller = async () => {
    while (performance.now() < until) {
      const t0 = performance.now()
      try {
        await once()
        calls++
        latencies?.push(performance.now() - t0)
      } catch (err) {
        errors++
        firstError ??= err.details ?? err.message
      }
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, caller))
  return { calls, errors, firstError, seconds: (performance.now() - t0) / 1000, latencies }
}

await once() // connect, fail fast on a broken configuration
await phase(warmup, false)
console.log('START')
const r = await phase(duration, true)
console.log('STOP')
const sorted = r.latencies.sort((a, b) => a - b)
const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
console.log(
  JSON.stringify({
    calls: r.calls,
    errors: r.errors,
    firstError: r.firstError,
    seconds: r.seconds,
    callsPerSecond: r.calls / r.seconds,
    p50: at(0.5),
    p99: at(0.99),
  }),
)
client.close()
