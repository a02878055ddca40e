// TLS benchmark: what svidkit's mTLS verification costs against plain mTLS with Node's own CA check.
//
// Method (shared/reference/perf-anchors.md): the server runs in its own process (a fresh one per run)
// on 127.0.0.1; this process is the load generator. Configurations alternate A B A B … (the start of
// the order rotating each round) and every number is the median over rounds. The machine is 2 shared,
// noisy vCPUs, so the ratios (svidkit ÷ plain, paired per round) and the server CPU per operation are
// the numbers to read, not the absolute rates.
//
//   pnpm exec tsc -b                       # the bench imports the built packages (dist/esm)
//   node bench/tls/tls.bench.mjs           # [--rounds 5] [--seconds 3] [--json results.json]
//
// Two measurements:
// - handshakes: new connections per second. Each connection is a full mTLS handshake plus one
//   `GET /` (Connection: close), so the server-side verification (which gates the request) is
//   included. 4 concurrent closed-loop workers.
// - keep-alive: requests per second over 10 kept-alive connections (closed loop, HTTP/1.1). The svidkit
//   handler reads `getTlsCaller(req)` on every request.
// - verification micro: the CPU of svidkit's per-handshake verification alone (client side), timed in
//   batches, to read next to the macro rows (whose per-op CPU varies more than that on this machine).
// Configurations:
// - plain:   https server { ca, requestCert, rejectUnauthorized: true } (OpenSSL decides) and an
//            https.Agent with one prebuilt secureContext { key, cert, ca } (as svidkit caches its
//            own; without it Node parses the key and certificates on every connection). Same TLS work
//            as svidkit: full handshakes, no session tickets issued or cached. The difference is
//            svidkit's verification (per-trust-domain verifyX509Svid + authorization, both sides).
// - svidkit: createMtlsServerConfig + createSpiffeHttpsAgent: per-trust-domain verifyX509Svid and
//            SPIFFE ID authorization on both sides, no session resumption.
// - plain-resumed (handshakes only, for reference): plain with Node's defaults, session tickets on
//            and the agent's session cache, i.e. what resumption saves; svidkit never resumes (a
//            resumed session skips the client's verification of the server).
import { fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import https from 'node:https'
import { createSecureContext } from 'node:tls'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const arg = (name, fallback) => {
  const i = args.indexOf(name)
  return i === -1 ? fallback : args[i + 1]
}

if (args.includes('--server')) await serverProcess()
else await driver(Number(arg('--rounds', '5')), Number(arg('--seconds', '3')), arg('--json', undefined))

// ---------------------------------------------------------------------------------------------
// The server process: one configuration, reports its CPU usage on request.

async function serverProcess() {
  const config = JSON.parse(process.env.TLS_BENCH_CONFIG)
  let server
  if (config.kind === 'svidkit') {
    const { X509Bundle } = await import('@svidkit/core/bundle')
    const { StaticSource } = await import('@svidkit/core/source')
    const { matchId } = await import('@svidkit/core/spiffe-id')
    const { createMtlsServerConfig, getTlsCaller } = await import('@svidkit/core/tls')
    const { parseX509Svid } = await import('@svidkit/core/x509-svid')
    const source = new StaticSource({
      svid: parseX509Svid(config.server.cert, config.server.key),
      bundles: X509Bundle.fromPem('example.org', config.ca),
    })
    const mtls = createMtlsServerConfig({ source, authorize: matchId('spiffe://example.org/client') })
    server = mtls.attach(
      https.createServer(mtls.serverOptions, (req, res) => {
        const caller = getTlsCaller(req)
        res.end(caller ? 'ok' : 'no caller')
      }),
    )
  } else {
    server = https.createServer(
      {
        key: config.server.key,
        cert: config.server.cert,
        ca: config.ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => res.end(req.socket.authorized ? 'ok' : 'no caller'),
    )
  }
  server.keepAliveTimeout = 60_000
  let connections = 0
  server.on('secureConnection', () => connections++)
  server.on('tlsClientError', (err) => process.send({ type: 'error', message: err.message }))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  process.on('message', (m) => {
    if (m === 'cpu') process.send({ type: 'cpu', usage: process.cpuUsage(), connections })
    if (m === 'exit') process.exit(0)
  })
  process.send({ type: 'ready', port: server.address().port })
}

// ---------------------------------------------------------------------------------------------
// The driver: certificates, clients, alternation, medians.

async function driver(rounds, seconds, jsonPath) {
  const { TestCA } = await import('@svidkit/testing')
  const { X509Bundle } = await import('@svidkit/core/bundle')
  const { StaticSource } = await import('@svidkit/core/source')
  const { matchId } = await import('@svidkit/core/spiffe-id')
  const { createSpiffeHttpsAgent } = await import('@svidkit/core/tls')

  const ca = await TestCA.create({ trustDomain: 'example.org', ttlSeconds: 86_400 })
  const serverSvid = await ca.issueX509Svid({ id: '/server', ttlSeconds: 86_400 })
  const clientSvid = await ca.issueX509Svid({ id: '/client', ttlSeconds: 86_400 })
  const caPem = ca.certificate.toString()
  const serverPem = { key: serverSvid.privateKeyPem, cert: serverSvid.certificatesPem }
  const clientSource = new StaticSource({
    svid: clientSvid,
    bundles: X509Bundle.fromPem('example.org', caPem),
  })

  const plainContext = createSecureContext({
    key: clientSvid.privateKeyPem,
    cert: clientSvid.certificatesPem,
    ca: caPem,
  })
  const clients = {
    plain: (keepAlive) =>
      new https.Agent({
        keepAlive,
        maxSockets: 10,
        maxCachedSessions: 0,
        secureContext: plainContext,
        checkServerIdentity: () => undefined, // an SVID has no DNS name for 127.0.0.1; the CA check stays
      }),
    'plain-resumed': (keepAlive) =>
      new https.Agent({
        keepAlive,
        maxSockets: 10,
        secureContext: plainContext,
        checkServerIdentity: () => undefined,
      }),
    svidkit: (keepAlive) =>
      createSpiffeHttpsAgent({
        source: clientSource,
        authorize: matchId('spiffe://example.org/server'),
        keepAlive,
        maxSockets: 10,
      }),
  }
  const serverKind = { plain: 'plain', 'plain-resumed': 'plain', svidkit: 'svidkit' }
  const tickets = { plain: false, 'plain-resumed': true, svidkit: false }

  const scenarios = [
    { metric: 'handshakes', configs: ['plain', 'svidkit', 'plain-resumed'], workers: 4, keepAlive: false },
    { metric: 'keep-alive', configs: ['plain', 'svidkit'], workers: 10, keepAlive: true },
  ]

  const results = []
  console.log(`node ${process.version}, ${rounds} rounds × ${seconds} s per run (after a 1 s warm-up)`)
  for (const scenario of scenarios) {
    const runs = Object.fromEntries(scenario.configs.map((c) => [c, []]))
    for (let round = 0; round < rounds; round++) {
      const order = rotate(scenario.configs, round)
      for (const config of order) {
        const r = await oneRun({
          config,
          serverConfig: { kind: serverKind[config], tickets: tickets[config], server: serverPem, ca: caPem },
          agent: clients[config](scenario.keepAlive),
          workers: scenario.workers,
          seconds,
        })
        runs[config].push(r)
        console.log(
          `  ${scenario.metric.padEnd(10)} round ${round + 1} ${config.padEnd(13)} ${r.rate.toFixed(0).padStart(6)}/s  server ${r.cpuPerOp.toFixed(0)} µs CPU/op  client ${r.clientCpuPerOp.toFixed(0)} µs CPU/op  new connections ${r.connections}  errors ${r.errors}`,
        )
      }
    }
    results.push({ metric: scenario.metric, runs })
  }
  const micro = await verificationMicro({ clientSource, serverPem, caPem, matchId })
  await clientSource.close()

  const table = summarize(results)
  console.log(`\n${table}`)
  console.log(
    `\nsvidkit verification per handshake (client checkServerIdentity: chain rebuild + verifyX509Svid + authorize), ` +
      `median of ${micro.batches.length} batches of ${micro.perBatch}: ${micro.median.toFixed(1)} µs ` +
      `(batches: ${micro.batches.map((x) => x.toFixed(1)).join(', ')})`,
  )
  if (jsonPath)
    writeFileSync(
      jsonPath,
      JSON.stringify({ node: process.version, rounds, seconds, results, micro }, null, 2),
    )
}

/**
 * The CPU svidkit adds to one handshake, isolated: the client's `checkServerIdentity` on a real
 * server certificate (what Node hands it), timed in batches. The server's gate runs the same
 * verification on the client chain.
 */
async function verificationMicro({ clientSource, serverPem, caPem, matchId }) {
  const { createMtlsClientConfig } = await import('@svidkit/core/tls')
  const tls = await import('node:tls')
  const server = tls.createServer({ ...serverPem }, (s) => s.end())
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const cert = await new Promise((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port: server.address().port,
      ca: caPem,
      checkServerIdentity: () => undefined,
    })
    s.once('secureConnect', () => {
      resolve(s.getPeerCertificate(true))
      s.destroy()
    })
    s.on('error', reject)
  })
  server.close()
  const client = createMtlsClientConfig({
    source: clientSource,
    authorize: matchId('spiffe://example.org/server'),
  })
  const perBatch = 2000
  const batches = []
  for (let b = 0; b < 7; b++) {
    const t0 = process.cpuUsage()
    for (let i = 0; i < perBatch; i++) {
      if (client.checkServerIdentity('127.0.0.1', cert) !== undefined) throw new Error('verification failed')
    }
    const t = process.cpuUsage(t0)
    batches.push((t.user + t.system) / perBatch)
  }
  return { perBatch, batches, median: median(batches) }
}

function rotate(list, by) {
  const k = by % list.length
  return [...list.slice(k), ...list.slice(0, k)]
}

async function oneRun({ config, serverConfig, agent, workers, seconds }) {
  const child = fork(fileURLToPath(import.meta.url), ['--server'], {
    env: { ...process.env, TLS_BENCH_CONFIG: JSON.stringify(serverConfig) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let serverErrors = 0
  let exited = false
  const waiters = []
  child.on('message', (m) => {
    if (m.type === 'error') serverErrors++
    else waiters.shift()?.resolve(m)
  })
  child.once('exit', (code) => {
    exited = true
    for (const w of waiters.splice(0)) w.reject(new Error(`server (${config}) exited with code ${code}`))
  })
  const next = () =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`server (${config}) has exited`))
      const t = setTimeout(() => reject(new Error(`server (${config}) did not answer`)), 15_000)
      waiters.push({
        resolve: (m) => {
          clearTimeout(t)
          resolve(m)
        },
        reject: (err) => {
          clearTimeout(t)
          reject(err)
        },
      })
    })
  const { port } = await next()
  try {
    await load(agent, port, workers, 1) // warm-up
    child.send('cpu')
    const before = await next()
    const clientBefore = process.cpuUsage()
    const { count, errors } = await load(agent, port, workers, seconds)
    const clientCpu = process.cpuUsage(clientBefore)
    child.send('cpu')
    const after = await next()
    const cpu = after.usage.user - before.usage.user + (after.usage.system - before.usage.system)
    return {
      config,
      rate: count / seconds,
      cpuPerOp: count ? cpu / count : 0,
      clientCpuPerOp: count ? (clientCpu.user + clientCpu.system) / count : 0,
      count,
      connections: after.connections - before.connections,
      errors: errors + serverErrors,
    }
  } finally {
    agent.destroy()
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.send('exit')
      await gone
    }
  }
}

/** Closed loop: `workers` concurrent GETs until the deadline. Every request has a 10 s timeout. */
async function load(agent, port, workers, seconds) {
  const deadline = performance.now() + seconds * 1000
  let count = 0
  let errors = 0
  const one = () =>
    new Promise((resolve) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/', agent, timeout: 10_000 }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode === 200))
        res.on('error', () => resolve(false))
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', () => resolve(false))
    })
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        if (await one()) count++
        else errors++
      }
    }),
  )
  return { count, errors }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function summarize(results) {
  const lines = [
    '| measurement | configuration | runs | median rate/s (each run) | ratio vs plain (of medians) | paired per-round ratio, median (each) | server CPU µs/op (median) | client CPU µs/op (median) | errors |',
    '|---|---|---|---|---|---|---|---|---|',
  ]
  for (const { metric, runs } of results) {
    const base = runs.plain
    const baseMedian = median(base.map((r) => r.rate))
    for (const [config, rs] of Object.entries(runs)) {
      const rates = rs.map((r) => r.rate)
      const paired = rs.map((r, i) => r.rate / base[i].rate)
      const each = rates.map((x) => x.toFixed(0)).join(', ')
      const pairedText =
        config === 'plain'
          ? '—'
          : `${median(paired).toFixed(2)} (${paired.map((x) => x.toFixed(2)).join(', ')})`
      lines.push(
        `| ${metric === 'handshakes' ? 'new handshakes/s (1 request each, c=4)' : 'requests/s on kept-alive connections (c=10)'} | ${config} | ${rs.length} | ${median(rates).toFixed(0)} (${each}) | ${(median(rates) / baseMedian).toFixed(2)} | ${pairedText} | ${median(rs.map((r) => r.cpuPerOp)).toFixed(0)} | ${median(rs.map((r) => r.clientCpuPerOp)).toFixed(0)} | ${rs.reduce((a, r) => a + r.errors, 0)} |`,
      )
    }
  }
  return lines.join('\n')
}
