// The adapters' per-request path in isolation, timed in process CPU time: what the Fastify plugin's
// onRequest hook and the Express svid() middleware cost per request, without the framework, the
// socket and the kernel (which dominate and blur the HTTP runs on this machine). A supplement to
// run.mjs, used to find and check per-request costs a few hundred nanoseconds at a time.
//
//   pnpm exec tsc -b
//   node bench/http/adapter-micro.mjs            # [--pairs 31] [--iterations 20000] [--filter <regex>]
//
// Every iteration builds a fresh `http.IncomingMessage` from raw header strings copied out of
// Buffers (as Node's parser does: fresh strings, so no cached string hash helps), with the same two
// headers as the HTTP runs. The baseline row does only that; each other row adds one adapter call.
// Rows alternate in blocks (A B C … A B C …); the figure is the median over blocks of (row − baseline),
// in ns per request, with the min over blocks for reference.
import http from 'node:http'
import tls from 'node:tls'
import { svid } from '@svidkit/express'
import { svidkitFastify } from '@svidkit/fastify'
import express from 'express'
import { createFixture, PATH } from './fixture.mjs'
import { floorCheck, mtlsServerConfig, svidkitOptions } from './servers/common.mjs'

const args = process.argv.slice(2)
const arg = (name, fallback) => {
  const i = args.indexOf(name)
  return i === -1 ? fallback : args[i + 1]
}
const pairs = Number(arg('--pairs', '31'))
const iterations = Number(arg('--iterations', '20000'))
const filter = new RegExp(arg('--filter', '.*'))
const noop = () => {}

const fixture = await createFixture(
  new URL('../results/tmp/adapter-micro-fixture.json', import.meta.url).pathname,
)

const raw = [
  ['Host', '127.0.0.1:3000'],
  ['authorization', `Bearer ${fixture.token}`],
  ['x-forwarded-client-cert', fixture.xfcc],
  ['User-Agent', 'autocannon'],
].flatMap(([k, v]) => [Buffer.from(k, 'latin1'), Buffer.from(v, 'latin1')])
const plainSocket = { remoteAddress: '127.0.0.1', encrypted: false }

/**
 * A real server-side TLS socket of a connection accepted by core's `createMtlsServerConfig` (the
 * client presented the fixture's X.509-SVID), for the mTLS rows: its caller was stored at handshake.
 */
async function mtlsSocket() {
  const mtls = mtlsServerConfig(fixture)
  const server = mtls.attach(tls.createServer({ ...mtls.serverOptions }))
  const accepted = new Promise((resolve) => server.once('secureConnection', resolve))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const client = tls.connect({
    port: server.address().port,
    host: '127.0.0.1',
    ca: fixture.caPem,
    cert: fixture.client.cert,
    key: fixture.client.key,
    checkServerIdentity: () => undefined,
  })
  const socket = await accepted
  const close = () => {
    client.destroy()
    server.close()
  }
  return { socket, close }
}
const tlsConnection = await mtlsSocket()

// Node's parser also sets the header count that `headersDistinct` reads (a private symbol).
const kHeadersCount = Object.getOwnPropertySymbols(new http.IncomingMessage(null)).find(
  (s) => s.description === 'kHeadersCount',
)

/** A request as Node's HTTP parser hands it over: fresh header strings, headers filled in. */
function message(socket = plainSocket) {
  const m = new http.IncomingMessage(socket)
  const rawHeaders = raw.map((b) => b.latin1Slice())
  m.rawHeaders = rawHeaders
  if (kHeadersCount) m[kHeadersCount] = rawHeaders.length
  for (let i = 0; i < rawHeaders.length; i += 2) m._addHeaderLine(rawHeaders[i], rawHeaders[i + 1], m.headers)
  m.method = 'GET'
  m.url = PATH
  return m
}

/** Registers the Fastify plugin on a stand-in instance and returns its onRequest hook. */
function fastifyHook(options) {
  const hooks = {}
  // Fastify's logger for `logger: false` (as in the HTTP runs): every level one inherited no-op.
  const nullLog = Object.create(
    Object.fromEntries(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((level) => [level, noop])),
  )
  nullLog.child = () => nullLog
  const fake = {
    log: nullLog,
    initialConfig: { caseSensitive: true, exposeHeadRoutes: true },
    addHook: (name, fn) => {
      hooks[name] = fn
    },
    decorateRequest() {},
    decorate() {},
    version: '5.12.8',
    [Symbol.for('skip-override')]: true,
  }
  let error
  svidkitFastify(fake, options, (err) => {
    error = err
  })
  if (error) throw error
  const config = {}
  // Fastify 5's request.routeOptions is a getter that builds a new object on every read.
  const routeContext = { config, url: PATH }
  return (m, done) => {
    const request = {
      raw: m,
      get routeOptions() {
        return {
          method: 'GET',
          url: routeContext.url,
          bodyLimit: 1048576,
          handlerTimeout: 0,
          attachValidation: false,
          logLevel: '',
          exposeHeadRoute: true,
          prefixTrailingSlash: 'both',
          handler: undefined,
          config: routeContext.config,
          schema: undefined,
          version: undefined,
        }
      },
    }
    hooks.onRequest(request, fakeReply, done)
  }
}
const fakeReply = {
  code() {
    return this
  },
  headers() {
    return this
  },
  send(body) {
    throw new Error(`refused: ${JSON.stringify(body)}`)
  },
}

function expressMiddleware(options) {
  const mw = svid(options)
  // A real app, for the routing the middleware reads from it (once per app, then cached).
  const app = express()
  app.use(mw)
  app.get(PATH, noop)
  const res = {
    status() {
      return this
    },
    set() {
      return this
    },
    json(body) {
      throw new Error(`refused: ${JSON.stringify(body)}`)
    },
  }
  return (m, done) => {
    m.originalUrl = m.url
    m.app = app
    m.baseUrl = ''
    m.route = { path: PATH }
    mw(m, res, done)
  }
}

const floor = floorCheck(fixture)
const rows = {
  baseline: (_m, done) => done(),
  // The floor of the HTTP runs: node:crypto.verify of the token's signature, nothing else.
  'floor hook (crypto.verify only)': (m, done) =>
    floor(m.headers.authorization) ? done() : done(new Error('floor')),
}
for (const config of ['svidkit-xfcc-policy', 'svidkit-jwt-cache', 'svidkit-jwt-nocache']) {
  const options = { ...svidkitOptions(config, fixture) }
  rows[`fastify ${config}`] = fastifyHook(options)
  rows[`express ${config}`] = expressMiddleware(options)
}
{
  const options = svidkitOptions('svidkit-mtls', fixture)
  const onTls = (row) => (m, done) => {
    m.socket = tlsConnection.socket
    row(m, done)
  }
  rows['baseline (TLS socket)'] = onTls((_m, done) => done())
  rows['fastify svidkit-mtls'] = onTls(fastifyHook({ ...options }))
  rows['express svidkit-mtls'] = onTls(expressMiddleware({ ...options }))
}
const names = Object.keys(rows).filter((n) => n.startsWith('baseline') || filter.test(n))

// Check every row once: it must call done() without an error, with a caller.
for (const name of names) {
  let called = false
  rows[name](message(), (err) => {
    if (err) throw err
    called = true
  })
  if (!called) throw new Error(`${name}: did not call next()`)
}

function block(fn, n) {
  const start = process.cpuUsage()
  for (let i = 0; i < n; i++) fn(message(), noop)
  const d = process.cpuUsage(start)
  return ((d.user + d.system) * 1000) / n // ns per iteration
}

// Warm-up
for (const name of names) block(rows[name], iterations / 4)
const samples = Object.fromEntries(names.map((n) => [n, []]))
for (let p = 0; p < pairs; p++) {
  const order = names.map((_, i) => names[(i + p) % names.length])
  for (const name of order) {
    const n = name.includes('nocache') || name.includes('floor') ? Math.max(500, iterations / 40) : iterations
    samples[name].push(block(rows[name], n))
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
tlsConnection.close()
console.log(
  `Node ${process.version}, ${pairs} blocks per row of ${iterations} iterations (floor and no-cache rows: ${Math.max(500, iterations / 40)}), process CPU time`,
)
console.log('| row | ns/request (median of blocks) | − baseline | min of blocks − min baseline |')
console.log('|---|---:|---:|---:|')
for (const name of names) {
  const baseline = name.includes('mtls') ? 'baseline (TLS socket)' : 'baseline'
  const isBase = name.startsWith('baseline')
  const med = median(samples[name])
  const min = Math.min(...samples[name])
  const dMed = med - median(samples[baseline])
  const dMin = min - Math.min(...samples[baseline])
  console.log(
    `| ${name} | ${med.toFixed(0)} | ${isBase ? '–' : dMed.toFixed(0)} | ${isBase ? '–' : dMin.toFixed(0)} |`,
  )
}
