// HTTP adapter benchmark: svidkit's Fastify plugin and Express middleware against the bare framework,
// the usual JWT middleware (the anchors) and the node:crypto floor, on loopback, in one run.
//
// Method (shared/reference/perf-anchors.md): every server runs in its own process on 127.0.0.1
// (`node bench/http/servers/<framework>.mjs <config> <port>`, which prints READY). The load generator is
// autocannon 9.0.0, `-c 10 -p 1`: a warm-up run (3 s) is thrown away, then a measured run (10 s) is
// saved with `-j`. The TLS configurations use tls-load.mjs instead (autocannon cannot present a client
// certificate): same connections, same closed loop, same headers, for both the plain-TLS baseline and
// mTLS. Every request of every configuration carries the same two headers (an ES256 JWT-SVID bearer
// token and a one-hop Envoy XFCC of 185 B). Every configuration runs once per round, the start of the
// order rotating each round (A B A B …); numbers are medians over rounds, and the paired ratio
// divides each run by the baseline run of the same round and framework. Server CPU per request is the
// utime+stime of the server pid (/proc/<pid>/stat) over the measured run ÷ the requests answered.
//
//   pnpm exec tsc -b                                  # the servers import the built packages (dist/esm)
//   node bench/http/run.mjs                           # the reported method: 3 rounds × (3 s + 10 s)
//   node bench/http/run.mjs --rounds 5 --wait-quiet   # wait (≤ 10 min) for a 1-minute load below 1.0 first
//   node bench/http/run.mjs --duration 3 --warmup 1 --rounds 1 --frameworks fastify --configs 'bare|xfcc'
//
// Writes the raw results to bench/results/http-<time>.json (git-ignored) and the markdown tables to
// bench/results/http-summary.md, and prints the tables.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { BODY, createFixture, PATH } from './fixture.mjs'
import { CONFIGS, isTls as isTlsConfig } from './servers/common.mjs'

/** `<config>@base` runs the same configuration from the `--base` checkout (before/after comparisons). */
const BASE_SUFFIX = '@base'
const baseName = (config) => (config.endsWith(BASE_SUFFIX) ? config.slice(0, -BASE_SUFFIX.length) : config)
const isTls = (config) => isTlsConfig(baseName(config))

const here = (p) => fileURLToPath(new URL(p, import.meta.url))
const require = createRequire(import.meta.url)
const AUTOCANNON = require.resolve('autocannon/autocannon.js')
const TLS_LOAD = here('./tls-load.mjs')
const RESULTS = here('../results/')
const TICK_US = 1e6 / 100 // CLK_TCK is 100 on Linux

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : argv[i + 1]
}
const options = {
  rounds: Number(opt('--rounds', '3')),
  duration: Number(opt('--duration', '10')),
  warmup: Number(opt('--warmup', '3')),
  connections: Number(opt('--connections', '10')),
  frameworks: opt('--frameworks', 'fastify,express').split(','),
  configs: new RegExp(opt('--configs', '.*')),
  waitQuiet: argv.includes('--wait-quiet'),
  loadThreshold: Number(opt('--load-threshold', '1.0')),
  maxWait: Number(opt('--max-wait', '600')),
  json: opt('--json', undefined),
  // Another checkout's bench/ directory (its packages built): `<config>@base` rows run its servers.
  base: opt('--base', undefined),
  baseConfigs: new RegExp(opt('--base-configs', '^svidkit-')),
  summary: opt('--summary', `${RESULTS}http-summary.md`),
}
for (const f of options.frameworks) {
  if (!CONFIGS[f]) throw new Error(`unknown framework "${f}" (${Object.keys(CONFIGS).join(', ')})`)
}

/** The baselines each configuration is compared with, per framework. */
const BASE = {
  fastify: {
    bare: 'bare',
    anchor: 'fastify-jwt',
    anchorCache: 'fastify-jwt-cache',
    floor: 'floor',
    tls: 'tls-bare',
  },
  express: { bare: 'bare', anchor: 'express-jwt', anchorCache: undefined, floor: 'floor', tls: 'tls-bare' },
  // NestJS: the svidkit guard against a trivial guard (returns true); `bare` (no guard) is the anchor
  // column, so the guard call itself shows too.
  'nest-express': { bare: 'trivial-guard', anchor: 'bare', anchorCache: undefined, floor: undefined },
  'nest-fastify': { bare: 'trivial-guard', anchor: 'bare', anchorCache: undefined, floor: undefined },
}
const LABEL = {
  fastify: 'Fastify 5.12.8',
  express: 'Express 5.3.0',
  'nest-express': 'NestJS 12.6.3 on Express 5.3.0',
  'nest-fastify': 'NestJS 12.6.3 on Fastify 5.12.8',
}

// ---------------------------------------------------------------------------------------------
// /proc readings

function procStat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // Fields 14–17 of proc(5) (utime stime cutime cstime) are 11–14 here (after pid, comm).
  return { utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) }
}

/** Machine-wide CPU ticks: busy (user+nice+system+irq+softirq), idle (+iowait), steal. */
function machineStat() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal }
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number)

// ---------------------------------------------------------------------------------------------
// Processes

function startServer(framework, config, fixtureFile) {
  const script = config.endsWith(BASE_SUFFIX)
    ? `${options.base}/http/servers/${framework}.mjs`
    : here(`./servers/${framework}.mjs`)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, baseName(config), '0'], {
      env: { ...process.env, SVIDKIT_BENCH_FIXTURE: fixtureFile, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${framework} ${config}: no READY within 60 s\n${err}`))
    }, 60_000)
    child.stderr.on('data', (d) => {
      err += d
    })
    child.stdout.on('data', (d) => {
      out += d
      const m = /READY (\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ child, port: Number(m[1]), stderr: () => err })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${framework} ${config}: exited with ${code} before READY\n${err}`))
    })
  })
}

function stopServer(server) {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve()
    server.child.once('exit', () => resolve())
    server.child.kill('SIGTERM')
  })
}

/** Runs a load generator to completion; resolves with its stdout. */
function runClient(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      err += d
    })
    child.on('exit', (code) => {
      if (code === 0) resolve(out)
      else reject(new Error(`load client exited with ${code}: ${err.slice(0, 2000)}`))
    })
  })
}

function clientArgs(fixture, fixtureFile, tls, port, seconds, json) {
  if (tls) {
    const a = [TLS_LOAD, '--url', `https://127.0.0.1:${port}${PATH}`, '--fixture', fixtureFile]
    a.push('-c', String(options.connections), '-d', String(seconds))
    return json ? [...a, '-j'] : a
  }
  const a = [AUTOCANNON, '-c', String(options.connections), '-p', '1', '-d', String(seconds)]
  if (json) a.push('-j')
  a.push('-H', `authorization:Bearer ${fixture.token}`, '-H', `x-forwarded-client-cert:${fixture.xfcc}`)
  a.push(`http://127.0.0.1:${port}${PATH}`)
  return a
}

// ---------------------------------------------------------------------------------------------
// Sanity: a configuration that does not answer the benchmark's request, or that lets a request
// without credentials through, is a broken benchmark, not a fast one.

async function sanity(framework, config, fixture, port) {
  const tls = isTls(config)
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}${PATH}`
  const connect = { ca: fixture.caPem, checkServerIdentity: () => undefined }
  const withCert = tls
    ? new Agent({ connect: { ...connect, cert: fixture.client.cert, key: fixture.client.key } })
    : undefined
  const noCert = tls ? new Agent({ connect }) : undefined
  try {
    const headers = { authorization: `Bearer ${fixture.token}`, 'x-forwarded-client-cert': fixture.xfcc }
    const ok = await request(url, { headers, dispatcher: withCert })
    const body = await ok.body.text()
    if (ok.statusCode !== 200 || body !== BODY) {
      throw new Error(
        `${framework} ${config}: the benchmark request got ${ok.statusCode} ${body.slice(0, 200)}`,
      )
    }
    if (['bare', 'tls-bare', 'hook-noop', 'trivial-guard'].includes(baseName(config))) return
    let refused
    try {
      const r = await request(url, { dispatcher: noCert })
      await r.body.text()
      refused = r.statusCode >= 400 && r.statusCode < 500 ? `HTTP ${r.statusCode}` : undefined
    } catch (err) {
      refused = tls ? `handshake: ${err.code ?? err.message}` : undefined
    }
    if (!refused) throw new Error(`${framework} ${config}: a request without credentials was not refused`)
  } finally {
    await withCert?.close()
    await noCert?.close()
  }
}

// ---------------------------------------------------------------------------------------------
// One measurement

async function measure(framework, config, fixture, fixtureFile) {
  const tls = isTls(config)
  const server = await startServer(framework, config, fixtureFile)
  try {
    await sanity(framework, config, fixture, server.port)
    await runClient(clientArgs(fixture, fixtureFile, tls, server.port, options.warmup, false))
    const load = loadavg()
    const s0 = procStat(server.child.pid)
    const self0 = procStat(process.pid)
    const m0 = machineStat()
    const t0 = performance.now()
    const out = await runClient(clientArgs(fixture, fixtureFile, tls, server.port, options.duration, true))
    const wall = (performance.now() - t0) / 1000
    const s1 = procStat(server.child.pid)
    const self1 = procStat(process.pid)
    const m1 = machineStat()
    const r = JSON.parse(out.trim().split('\n').at(-1))
    const requests = r.requests.total
    const duration = tls ? r.duration : (r.duration ?? options.duration)
    const serverTicks = s1.utime + s1.stime - (s0.utime + s0.stime)
    const clientTicks = self1.cutime + self1.cstime - (self0.cutime + self0.cstime)
    const machineTicks = m1.busy + m1.idle + m1.steal - (m0.busy + m0.idle + m0.steal)
    const busyTicks = m1.busy - m0.busy
    return {
      framework,
      config,
      client: tls ? 'tls-load' : 'autocannon',
      reqPerSec: requests / duration,
      requests,
      duration,
      wall,
      latency: { p50: r.latency.p50, p99: r.latency.p99, p99_9: r.latency.p99_9 },
      non2xx: r.non2xx ?? 0,
      errors: (r.errors ?? 0) + (r.timeouts ?? 0),
      serverCpuUsPerReq: (serverTicks * TICK_US) / Math.max(1, requests),
      serverCpuUtil: (serverTicks * TICK_US) / 1e6 / duration,
      clientCpuUsPerReq: (clientTicks * TICK_US) / Math.max(1, requests),
      // What the rest of the machine (other tenants) burnt during the window, in cores.
      otherCores:
        Math.max(0, (busyTicks - serverTicks - clientTicks) / Math.max(1, machineTicks)) * cpus().length,
      stealPct: ((m1.steal - m0.steal) / Math.max(1, machineTicks)) * 100,
      loadavg: load,
    }
  } finally {
    await stopServer(server)
  }
}

// ---------------------------------------------------------------------------------------------
// Summary

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–')
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–')
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–')
const ms = (x) => (Number.isFinite(x) ? (Number.isInteger(x) ? String(x) : x.toFixed(2)) : '–')

/** ratio of medians, and the median of per-round ratios (config run ÷ baseline run of the same round). */
function ratios(runs, baseRuns) {
  if (!baseRuns || baseRuns.length === 0) return undefined
  const ofMedians = median(runs.map((r) => r.reqPerSec)) / median(baseRuns.map((r) => r.reqPerSec))
  const paired = []
  for (const r of runs) {
    const b = baseRuns.find((x) => x.round === r.round)
    if (b) paired.push(r.reqPerSec / b.reqPerSec)
  }
  const cpu = median(baseRuns.map((r) => r.serverCpuUsPerReq)) / median(runs.map((r) => r.serverCpuUsPerReq))
  return { ofMedians, paired: median(paired), each: paired, cpu }
}
const fmtRatio = (x) => (x ? `${f2(x.ofMedians)} / ${f2(x.paired)}` : '–')

function rowStats(runs) {
  return {
    n: runs.length,
    rps: median(runs.map((r) => r.reqPerSec)),
    each: runs.map((r) => f0(r.reqPerSec)).join(', '),
    p50: median(runs.map((r) => r.latency.p50)),
    p99: median(runs.map((r) => r.latency.p99)),
    p999: median(runs.map((r) => r.latency.p99_9)),
    cpu: median(runs.map((r) => r.serverCpuUsPerReq)),
    util: median(runs.map((r) => r.serverCpuUtil)),
    other: median(runs.map((r) => r.otherCores)),
    bad: runs.reduce((s, r) => s + r.non2xx + r.errors, 0),
  }
}

export function summarize(all, meta) {
  const lines = []
  const verdicts = []
  const changes = []
  for (const framework of meta.frameworks) {
    const base = BASE[framework]
    const by = (config) => all.filter((r) => r.framework === framework && r.config === config)
    const configs = meta.plan[framework].filter((c) => by(c).length > 0)
    const plain = configs.filter((c) => !isTls(c))
    const tlsConfigs = configs.filter((c) => isTls(c))
    const bare = rowStats(by(base.bare))
    if (plain.length > 0) {
      lines.push(
        `**${LABEL[framework]}**, autocannon \`-c ${meta.connections} -p 1\`, plain HTTP. Ratios are "of medians / paired per round" of req/s; the CPU ratio is baseline CPU/req ÷ this CPU/req.`,
        '',
      )
      lines.push(
        `| configuration | runs | median req/s (each run) | × ${base.bare} | × ${base.anchor} | ${base.anchorCache ? `× ${base.anchorCache} | ` : ''}× floor | CPU-ratio × ${base.bare} | p50 ms | p99 ms | p99.9 ms | server CPU µs/req | Δ CPU µs/req vs ${base.bare} | server CPU util | other load (cores) | non-2xx+errors |`,
      )
      lines.push(
        `|---|---|---|---|---|${base.anchorCache ? '---|' : ''}---|---|---|---|---|---|---|---|---|---|`,
      )
      for (const c of plain) {
        const runs = by(c)
        const s = rowStats(runs)
        const rb = c === base.bare ? undefined : ratios(runs, by(base.bare))
        const ra = c === base.anchor ? undefined : ratios(runs, by(base.anchor))
        const rc = base.anchorCache && c !== base.anchorCache ? ratios(runs, by(base.anchorCache)) : undefined
        const rf = c === base.floor || !base.floor ? undefined : ratios(runs, by(base.floor))
        lines.push(
          `| ${framework}/${c} | ${s.n} | ${f0(s.rps)} (${s.each}) | ${fmtRatio(rb)} | ${fmtRatio(ra)} | ${base.anchorCache ? `${fmtRatio(rc)} | ` : ''}${fmtRatio(rf)} | ${rb ? f2(rb.cpu) : '–'} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.p999)} | ${f1(s.cpu)} | ${c === base.bare ? '–' : `${s.cpu - bare.cpu >= 0 ? '+' : ''}${f1(s.cpu - bare.cpu)}`} | ${f0(s.util * 100)}% | ${f2(s.other)} | ${s.bad} |`,
        )
      }
      lines.push('')
    }
    if (tlsConfigs.length > 0) {
      const tb = rowStats(by(base.tls))
      lines.push(
        `**${framework}, HTTPS on ${meta.connections} kept-alive connections** (tls-load.mjs: undici Pool, pipelining 1, closed loop; latency in ms with µs resolution).`,
        '',
      )
      lines.push(
        '| configuration | runs | median req/s (each run) | × plain TLS (of medians / paired) | CPU-ratio × plain TLS | p50 ms | p99 ms | p99.9 ms | server CPU µs/req | Δ CPU µs/req vs plain TLS | server CPU util | other load (cores) | non-2xx+errors |',
      )
      lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
      for (const c of tlsConfigs) {
        const runs = by(c)
        const s = rowStats(runs)
        const r = c === base.tls ? undefined : ratios(runs, by(base.tls))
        lines.push(
          `| ${framework}/${c} | ${s.n} | ${f0(s.rps)} (${s.each}) | ${fmtRatio(r)} | ${r ? f2(r.cpu) : '–'} | ${f2(s.p50)} | ${f2(s.p99)} | ${f2(s.p999)} | ${f1(s.cpu)} | ${c === base.tls ? '–' : `${s.cpu - tb.cpu >= 0 ? '+' : ''}${f1(s.cpu - tb.cpu)}`} | ${f0(s.util * 100)}% | ${f2(s.other)} | ${s.bad} |`,
        )
      }
      lines.push('')
    }
    // Targets (set for Fastify; reported for Express too).
    // A target is on the req/s ratio (the brief's wording); `cpuMax` adds a server-CPU budget.
    // met: both req/s ratios (of medians and paired) at or above the goal; borderline: one of them.
    const target = (name, config, baseline, min, cpuMax) => {
      const runs = by(config)
      const r = ratios(runs, by(baseline))
      if (!r || runs.length === 0) return
      const both = r.paired >= min && r.ofMedians >= min
      const one = r.paired >= min || r.ofMedians >= min
      const s = rowStats(runs)
      const ref = rowStats(by(baseline))
      const delta = s.cpu - ref.cpu
      const cpuOk = cpuMax === undefined || delta <= cpuMax
      const note = `Δ CPU ${delta >= 0 ? '+' : ''}${f1(delta)} µs/req vs ${baseline}${cpuMax === undefined ? '' : ` (budget ≤ +${cpuMax})`}`
      const verdict =
        both && cpuOk ? 'met' : one && cpuOk ? 'borderline' : one || both ? 'missed (CPU budget)' : 'missed'
      verdicts.push(
        `| ${framework} | ${name} | ≥ ${min.toFixed(2)}× | ${f2(r.ofMedians)} / ${f2(r.paired)} (${r.each.map(f2).join(', ')}) | ${f2(r.cpu)} | ${note} | ${verdict} |`,
      )
    }
    if (framework.startsWith('nest-')) {
      // The guard's own cost: ≤ 5 µs of server CPU per request over a guard that returns true, for
      // the configurations without cryptography per request (XFCC + policy; JWT-SVID, cache warm).
      target('XFCC caller + policy vs a trivial guard', 'svidkit-xfcc-policy', 'trivial-guard', 0.85, 5)
      target('JWT-SVID, cache warm vs a trivial guard', 'svidkit-jwt-cache', 'trivial-guard', 0.85, 5)
      target('(info) JWT-SVID, cache off vs a trivial guard', 'svidkit-jwt-nocache', 'trivial-guard', 0.2)
      target('(info) a trivial guard vs no guard', 'trivial-guard', 'bare', 0.9)
      continue
    }
    if (framework === 'fastify') {
      // The per-request-cost targets (Fastify 5): against bare, the hand-written hooks svidkit
      // replaces, and plain TLS. `-audit` hands every event to a sink; without it nothing reads them.
      for (const c of ['svidkit-xfcc-policy-audit', 'svidkit-xfcc-policy']) {
        target(`${c} vs bare`, c, base.bare, 0.88)
        target(`${c} vs the naive XFCC hook`, c, 'naive-xfcc', 0.97, 1)
      }
      target('JWT-SVID, cache warm vs bare', 'svidkit-jwt-cache', base.bare, 0.9)
      target('mTLS kept-alive vs plain TLS', 'svidkit-mtls', base.tls, 0.95)
      target('(info) mTLS vs the naive mTLS hook', 'svidkit-mtls', 'naive-mtls', 1.0)
      if (base.anchorCache)
        target(
          `(info) JWT-SVID, cache warm vs ${base.anchorCache}`,
          'svidkit-jwt-cache',
          base.anchorCache,
          1.0,
        )
    } else {
      // Express: every svidkit configuration against one more middleware layer that does nothing.
      for (const c of configs.filter((x) => x.startsWith('svidkit-') && !isTls(x))) {
        target(`${c} vs hook-noop`, c, 'hook-noop', c === 'svidkit-jwt-nocache' ? 0.5 : 0.9)
      }
      target('mTLS kept-alive vs plain TLS', 'svidkit-mtls', base.tls, 0.9)
      target('(info) mTLS vs the naive mTLS hook', 'svidkit-mtls', 'naive-mtls', 1.0)
      target('(info) XFCC caller + policy vs the naive XFCC hook', 'svidkit-xfcc-policy', 'naive-xfcc', 0.97)
    }
    target(`(info) JWT-SVID, cache warm vs ${base.anchor}`, 'svidkit-jwt-cache', base.anchor, 1.0)
    target('(info) JWT-SVID, cache off vs floor', 'svidkit-jwt-nocache', base.floor, 0.95)
    target('(info) JWT-SVID, cache off vs hand-rolled JWS', 'svidkit-jwt-nocache', 'floor-jws', 0.95)
    // Before/after: each `<config>@base` row against the same configuration of this checkout.
    for (const c of meta.plan[framework].filter((x) => x.endsWith(BASE_SUFFIX))) {
      const after = baseName(c)
      const r = ratios(by(after), by(c))
      const sb = rowStats(by(c))
      const sa = rowStats(by(after))
      if (!r) continue
      const ref = isTls(c) ? rowStats(by(base.tls)) : bare
      changes.push(
        `| ${framework}/${after} | ${f1(sb.cpu)} | ${f1(sa.cpu)} | ${sa.cpu - sb.cpu >= 0 ? '+' : ''}${f1(sa.cpu - sb.cpu)} | ${f1(sb.cpu - ref.cpu)} → ${f1(sa.cpu - ref.cpu)} | ${f2(r.ofMedians)} / ${f2(r.paired)} (${r.each.map(f2).join(', ')}) |`,
      )
    }
  }
  if (changes.length > 0) {
    lines.push(
      '**Package changes, before (`@base`: the same servers on a checkout without them) and after**, same run, alternating.',
      '',
    )
    lines.push(
      '| configuration | server CPU µs/req before | after | Δ | Δ vs bare (or plain TLS): before → after | req/s after ÷ before (of medians / paired; each round) |',
    )
    lines.push('|---|---|---|---|---|---|')
    lines.push(...changes, '')
  }
  if (verdicts.length > 0) {
    lines.push(
      '**Targets** on the req/s ratio: of medians / paired median (each round). "met" = both at or above the goal (and within the CPU budget where there is one), "borderline" = one of them. The CPU ratio (baseline server CPU/req ÷ this one) is what the req/s ratio would be if the server alone were the bottleneck; here autocannon shares the 2 cores, so req/s ratios are closer to 1.',
      '',
    )
    lines.push(
      '| framework | target | goal | req/s ratio (of medians / paired; each round) | CPU ratio | server CPU | verdict |',
    )
    lines.push('|---|---|---|---|---|---|---|')
    lines.push(...verdicts, '')
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------
// Main

async function waitQuiet() {
  const until = Date.now() + options.maxWait * 1000
  for (;;) {
    const [l1] = loadavg()
    if (l1 < options.loadThreshold) return { waited: true, quiet: true, load: loadavg() }
    if (Date.now() >= until) return { waited: true, quiet: false, load: loadavg() }
    console.log(`  1-minute load ${l1.toFixed(2)} ≥ ${options.loadThreshold}: waiting 30 s`)
    await new Promise((r) => setTimeout(r, 30_000))
  }
}

const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length])

function headerOf(meta) {
  const quietNote = !meta.waitQuiet
    ? ''
    : meta.quiet.quiet
      ? ` (waited for < ${meta.loadThreshold})`
      : ` (did not fall below ${meta.loadThreshold} within the wait)`
  return [
    `Run ${meta.started} → ${meta.finished}: \`${meta.command}\``,
    `Node ${meta.node} (OpenSSL ${meta.openssl}), ${meta.cpus}. ${meta.rounds} rounds × (${meta.warmup} s warm-up + ${meta.duration} s measured) per configuration, alternating, start rotating each round. Headers on every request: authorization ${meta.headers.authorizationBytes} B, XFCC ${meta.headers.xfccBytes} B.`,
    `1-minute load before the run ${meta.quiet.load[0]}${quietNote}; during the runs ${meta.loadRange[0]}–${meta.loadRange[1]}.`,
    '',
  ].join('\n')
}

async function main() {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const fixtureFile = `${RESULTS}tmp/fixture-${stamp}.json`
  const fixture = await createFixture(fixtureFile)
  const plan = Object.fromEntries(
    options.frameworks.map((f) => {
      const configs = CONFIGS[f].filter((c) => options.configs.test(c))
      const base = options.base
        ? configs.filter((c) => options.baseConfigs.test(c)).map((c) => c + BASE_SUFFIX)
        : []
      return [f, [...configs, ...base]]
    }),
  )
  const quiet = options.waitQuiet ? await waitQuiet() : { waited: false, load: loadavg() }
  const meta = {
    started: new Date().toISOString(),
    node: process.version,
    openssl: process.versions.openssl,
    cpus: `${cpus().length} × ${cpus()[0]?.model}`,
    command: `node bench/http/run.mjs ${argv.join(' ')}`.trim(),
    rounds: options.rounds,
    duration: options.duration,
    warmup: options.warmup,
    connections: options.connections,
    frameworks: options.frameworks,
    plan,
    quiet,
    waitQuiet: options.waitQuiet,
    loadThreshold: options.loadThreshold,
    headers: { authorizationBytes: `Bearer ${fixture.token}`.length, xfccBytes: fixture.xfcc.length },
  }
  console.log(
    `node ${process.version}, ${meta.cpus}; ${options.rounds} rounds × (${options.warmup} s warm-up + ${options.duration} s); load ${meta.quiet.load.join(' ')}${options.waitQuiet ? (quiet.quiet ? ' (quiet)' : ' (still busy after waiting)') : ''}`,
  )
  const all = []
  for (let round = 0; round < options.rounds; round++) {
    for (const framework of options.frameworks) {
      for (const config of rotate(plan[framework], round)) {
        // Other jobs on this machine rebuild dist/ now and then; a server that starts on a half-written
        // build fails its sanity check. Such a run is retried (twice at most), never measured as is.
        let r
        for (let attempt = 1; ; attempt++) {
          try {
            r = await measure(framework, config, fixture, fixtureFile)
            break
          } catch (err) {
            if (attempt > 2) throw err
            console.log(`  ${framework}/${config}: ${err.message.split('\n')[0]}; retrying in 10 s`)
            await new Promise((resolve) => setTimeout(resolve, 10_000))
          }
        }
        r.round = round
        all.push(r)
        console.log(
          `  round ${round + 1} ${`${framework}/${config}`.padEnd(36)} ${f0(r.reqPerSec).padStart(6)} req/s  p99 ${ms(r.latency.p99)} ms  server ${f1(r.serverCpuUsPerReq)} µs/req (${f0(r.serverCpuUtil * 100)}%)  client ${f1(r.clientCpuUsPerReq)} µs/req  other ${f2(r.otherCores)} cores  load ${r.loadavg[0]}  bad ${r.non2xx + r.errors}`,
        )
      }
    }
  }
  meta.finished = new Date().toISOString()
  meta.loadRange = [Math.min(...all.map((r) => r.loadavg[0])), Math.max(...all.map((r) => r.loadavg[0]))]
  const table = summarize(all, meta)
  const header = headerOf(meta)
  const jsonFile = options.json ?? `${RESULTS}http-${stamp}.json`
  writeFileSync(jsonFile, JSON.stringify({ meta, runs: all }, null, 2))
  writeFileSync(options.summary, `${header}\n${table}`)
  console.log(`\n${header}\n${table}`)
  console.log(`raw results: ${jsonFile}\nsummary: ${options.summary}`)
}

/** `--from <results.json>`: prints (and writes to --summary) the tables of an earlier run again. */
function resummarize(file) {
  const { meta, runs } = JSON.parse(readFileSync(file, 'utf8'))
  const text = `${headerOf(meta)}\n${summarize(runs, meta)}`
  writeFileSync(options.summary, text)
  console.log(text)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const from = opt('--from', undefined)
  if (from) resummarize(from)
  else await main()
}
