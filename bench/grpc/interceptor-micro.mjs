// What svidInterceptor itself costs per call, without HTTP/2 or the network: the per-call path of a
// grpc-js server interceptor (build the intercepting call, start it, deliver the metadata, let the call
// through) driven directly, for an interceptor that only passes calls on and for svidInterceptor on a
// real connection of serveSvid (peer verified in the handshake), with and without a JWT-SVID (cache
// warm). Process CPU time per call, blocks alternated A/B/C, median of the blocks.
//
//   pnpm exec tsc -b && node bench/grpc/interceptor-micro.mjs [--blocks 31] [--calls 20000]
import { readFileSync } from 'node:fs'
import { connect } from 'node:tls'
import * as grpc from '@grpc/grpc-js'
import { parseBundleMap } from '@svidkit/core/bundle'
import { authorizeMemberOf } from '@svidkit/core/policy'
import { StaticSource } from '@svidkit/core/source'
import { parseX509Svid } from '@svidkit/core/x509-svid'
import { callerOf, serveSvid, svidInterceptor } from '@svidkit/grpc'
import { createFixture, TRUST_DOMAIN } from '../http/fixture.mjs'
import { METHOD } from './common.mjs'

const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : Number(argv[i + 1])
}
const BLOCKS = opt('--blocks', 31)
const CALLS = opt('--calls', 20_000)

const fx = await createFixture(new URL('../results/tmp/grpc-micro-fixture.json', import.meta.url).pathname)
const bundles = parseBundleMap(fx.bundleMap)
const source = new StaticSource({ svid: parseX509Svid(fx.server.cert, fx.server.key), bundles })

// One real connection through serveSvid, so the interceptor finds a verified socket for the call.
const server = new grpc.Server()
const listener = await serveSvid(server, {
  address: '127.0.0.1:0',
  source,
  authorize: authorizeMemberOf(TRUST_DOMAIN),
})
const accepted = new Promise((resolve) => listener.tlsServer.once('secureConnection', resolve))
const client = connect({
  host: '127.0.0.1',
  port: listener.port,
  ca: fx.caPem,
  cert: fx.client.cert,
  key: fx.client.key,
  ALPNProtocols: ['h2'],
  checkServerIdentity: () => undefined,
})
const socket = await accepted
const info = {
  localAddress: socket.localAddress,
  localPort: socket.localPort,
  remoteAddress: socket.remoteAddress,
  remotePort: socket.remotePort,
}

/** The innermost call grpc-js would hand the interceptor (BaseServerInterceptingCall's surface). */
function baseCall() {
  return {
    listener: undefined,
    start(listener) {
      this.listener = listener
    },
    sendMetadata() {},
    sendMessage() {},
    sendStatus(status) {
      throw new Error(`refused: ${status.details}`)
    },
    startRead() {},
    getPeer: () => `${info.remoteAddress}:${info.remotePort}`,
    getConnectionInfo: () => info,
    getDeadline: () => Number.POSITIVE_INFINITY,
    getHost: () => 'bench',
    getAuthContext: () => ({}),
  }
}

const descriptor = { path: METHOD, requestStream: false, responseStream: false }
let seen = 0
const handlerListener = {
  onReceiveMetadata(metadata) {
    if (metadata) seen++
  },
  onReceiveMessage() {},
  onReceiveHalfClose() {},
  onCancel() {},
}

function oneCall(interceptor, metadata, check) {
  const inner = baseCall()
  const call = interceptor(descriptor, inner)
  call.start(handlerListener)
  inner.listener.onReceiveMetadata(metadata)
  if (check && callerOf(metadata) === undefined) throw new Error('no caller attached')
}

const passOn = (_method, call) =>
  new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({ onReceiveMetadata: (metadata, mdNext) => mdNext(metadata) })
    },
  })
const svidMtls = svidInterceptor({ bundles, self: source, audit: false })
const svidJwt = svidInterceptor({ bundles, self: source, audit: false, jwt: { audience: fx.audience } })

const withToken = () => {
  const md = new grpc.Metadata()
  md.set('authorization', `Bearer ${fx.token}`)
  return md
}
const contenders = [
  ['noop interceptor (grpc-js machinery)', (md) => oneCall(passOn, md, false)],
  ['svidInterceptor, mTLS (verified connection)', (md) => oneCall(svidMtls, md, true)],
  ['svidInterceptor, mTLS + JWT-SVID (cache warm)', (md) => oneCall(svidJwt, md, true)],
]

// Every contender gets the same fresh Metadata per call (as grpc-js builds one per call).
const metadatas = Array.from({ length: CALLS }, withToken)
for (const [, run] of contenders) for (let i = 0; i < 2000; i++) run(withToken())
const samples = contenders.map(() => [])
for (let b = 0; b < BLOCKS; b++) {
  for (let c = 0; c < contenders.length; c++) {
    const run = contenders[(c + b) % contenders.length][1]
    const fresh = metadatas.map((m) => m.clone())
    const t0 = process.cpuUsage()
    for (let i = 0; i < CALLS; i++) run(fresh[i])
    const dt = process.cpuUsage(t0)
    samples[(c + b) % contenders.length].push(((dt.user + dt.system) * 1000) / CALLS) // ns per call
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}
const base = median(samples[0])
const grpcVersion = JSON.parse(
  readFileSync(new URL(import.meta.resolve('@grpc/grpc-js/package.json')), 'utf8'),
).version
console.log(
  `\nper-call CPU, ${BLOCKS} blocks × ${CALLS} calls, Node ${process.version}, grpc-js ${grpcVersion}\n`,
)
console.log('| interceptor | ns/call (median of blocks) | min–max | Δ vs noop (µs) |')
console.log('|---|---:|---:|---:|')
contenders.forEach(([name], i) => {
  const m = median(samples[i])
  const s = [...samples[i]].sort((a, b) => a - b)
  console.log(
    `| ${name} | ${m.toFixed(0)} | ${s[0].toFixed(0)}–${s[s.length - 1].toFixed(0)} | ${i === 0 ? '—' : `+${((m - base) / 1000).toFixed(2)}`} |`,
  )
})
if (seen === 0) throw new Error('no call reached the handler listener')
client.destroy()
await listener.close({ graceMs: 0 })
server.forceShutdown()
await source.close()
