// gRPC benchmark: @svidkit/grpc (serveSvid + svidInterceptor) against bare grpc-js over mTLS, and an
// interceptor that only calls getAuthContext(), in one run (shared/reference/perf-anchors.md §2 method).
//
// Every server runs in its own process on 127.0.0.1 (`node bench/grpc/server.mjs <config> <fixture>`,
// which prints READY <port>); the load client is another process (bench/grpc/load.mjs): one grpc-js
// channel, mTLS with the same client certificate, `--concurrency` callers in a closed loop, the same
// `authorization` metadata on every call of every configuration. A warm-up is thrown away, then the
// client measures for `--duration` seconds. Each configuration runs once per round, the start of the
// order rotating each round; numbers are medians over rounds, and the paired ratio divides each run by
// the bare-mtls run of the same round. Server CPU per call is the utime+stime of the server pid
// (/proc/<pid>/stat) between the client's START and STOP lines ÷ the calls answered.
//
//   pnpm exec tsc -b                              # the servers import the built packages (dist/esm)
//   node bench/grpc/run.mjs                       # 3 rounds × (3 s + 10 s) × 5 configurations
//   node bench/grpc/run.mjs --rounds 5 --wait-quiet   # first wait (≤ 10 min) for a 1-minute load below 1.0
//   node bench/grpc/run.mjs --rounds 1 --duration 3 --warmup 1 --configs 'bare|svidkit-mtls'
//
// Writes bench/results/grpc-<time>.json (git-ignored) and bench/results/grpc-summary.md, and prints the table.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createFixture } from '../http/fixture.mjs'
import { CONFIGS } from './common.mjs'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))
const RESULTS = here('../results/')
const TICK_US = 1e6 / 100 // CLK_TCK is 100 on Linux
const BASE = 'bare-mtls'

const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : argv[i + 1]
}
const options = {
  rounds: Number(opt('--rounds', '3')),
  duration: Number(opt('--duration', '10')),
  warmup: Number(opt('--warmup', '3')),
  concurrency: Number(opt('--concurrency', '10')),
  configs: new RegExp(opt('--configs', '.*')),
  summary: opt('--summary', `${RESULTS}grpc-summary.md`),
  // Wait (at most --max-wait seconds) for the 1-minute load average to drop below --load-threshold.
  waitQuiet: argv.includes('--wait-quiet'),
  loadThreshold: Number(opt('--load-threshold', '1.0')),
  maxWait: Number(opt('--max-wait', '600')),
}
const configs = CONFIGS.filter((c) => options.configs.test(c))
if (!configs.includes(BASE)) configs.unshift(BASE)

function cpuTicks(pid) {
  // Fields 14–15 of proc(5) (utime stime) are 11–12 after the closing parenthesis of comm.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12])
}
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number)

/** Spawns a node script and hands its stdout lines to `onLine`; resolves with its exit code. */
function run(args, onLine) {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  })
  createInterface({ input: child.stdout }).on('line', (line) => onLine(line, child))
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, exited }
}

async function startServer(config, fixtureFile) {
  let resolveReady
  const ready = new Promise((resolve, reject) => {
    resolveReady = resolve
    setTimeout(() => reject(new Error(`${config}: no READY within 20 s`)), 20_000).unref()
  })
  const server = run([here('./server.mjs'), config, fixtureFile], (line) => {
    if (line.startsWith('READY ')) resolveReady(Number(line.slice(6)))
  })
  const port = await Promise.race([
    ready,
    server.exited.then((code) => Promise.reject(new Error(`${config} exited ${code}`))),
  ])
  return { ...server, port }
}

async function measure(config, fixtureFile) {
  const server = await startServer(config, fixtureFile)
  let start
  let stop
  let result
  const client = run(
    [
      here('./load.mjs'),
      String(server.port),
      fixtureFile,
      '--duration',
      String(options.duration),
      '--warmup',
      String(options.warmup),
      '--concurrency',
      String(options.concurrency),
    ],
    (line) => {
      if (line === 'START') start = cpuTicks(server.child.pid)
      else if (line === 'STOP') stop = cpuTicks(server.child.pid)
      else if (line.startsWith('{')) result = JSON.parse(line)
    },
  )
  const code = await client.exited
  server.child.kill('SIGTERM')
  await server.exited
  if (code !== 0 || !result || start === undefined || stop === undefined) {
    throw new Error(`${config}: the load client failed (exit ${code})`)
  }
  const cpuUsPerCall = ((stop - start) * TICK_US) / result.calls
  return { ...result, cpuUsPerCall, serverCpuShare: ((stop - start) * TICK_US) / 1e6 / result.seconds }
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–')
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–')
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–')

if (options.waitQuiet) {
  const until = Date.now() + options.maxWait * 1000
  while (loadavg()[0] >= options.loadThreshold && Date.now() < until)
    await new Promise((r) => setTimeout(r, 10_000))
  console.error(`load average before the run: ${loadavg().join(' ')}`)
}

const fixtureFile = `${RESULTS}tmp/grpc-fixture.json`
await createFixture(fixtureFile)
const startedAt = new Date()
const runs = Object.fromEntries(configs.map((c) => [c, []]))
for (let round = 0; round < options.rounds; round++) {
  const order = configs.map((_, i) => configs[(i + round) % configs.length])
  for (const config of order) {
    const load = loadavg()
    const r = await measure(config, fixtureFile)
    runs[config].push({ round, load, ...r })
    console.error(
      `round ${round + 1} ${config}: ${f0(r.callsPerSecond)} calls/s, server ${f1(r.cpuUsPerCall)} µs/call, p50 ${f2(r.p50)} ms, errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}`,
    )
  }
}

const base = runs[BASE]
const rows = configs.map((config) => {
  const rs = runs[config]
  const paired = rs.map((r) => r.callsPerSecond / base.find((b) => b.round === r.round).callsPerSecond)
  const pairedCpu = rs.map((r) => r.cpuUsPerCall - base.find((b) => b.round === r.round).cpuUsPerCall)
  return {
    config,
    callsPerSecond: median(rs.map((r) => r.callsPerSecond)),
    each: rs.map((r) => r.callsPerSecond),
    ratio: median(rs.map((r) => r.callsPerSecond)) / median(base.map((r) => r.callsPerSecond)),
    pairedRatio: median(paired),
    cpu: median(rs.map((r) => r.cpuUsPerCall)),
    cpuDelta: median(pairedCpu),
    serverCpuShare: median(rs.map((r) => r.serverCpuShare)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    errors: rs.reduce((n, r) => n + r.errors, 0),
  }
})

const header = [
  `gRPC unary, grpc-js ${JSON.parse(readFileSync(new URL(import.meta.resolve('@grpc/grpc-js/package.json')), 'utf8')).version}, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), ${options.rounds} rounds × (${options.warmup} s + ${options.duration} s), ${options.concurrency} callers on one channel, ${startedAt.toISOString().slice(0, 10)}`,
  '',
  `load average at the start of each run: ${Object.values(runs)
    .flat()
    .map((r) => r.load[0].toFixed(1))
    .join(', ')}`,
  '',
  '| configuration | median calls/s (each run) | × bare-mtls (of medians) | × bare-mtls (paired) | server CPU µs/call | Δ CPU µs/call vs bare (paired) | server CPU share | p50 ms | p99 ms | errors |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
]
const lines = rows.map(
  (r) =>
    `| ${r.config} | ${f0(r.callsPerSecond)} (${r.each.map(f0).join(', ')}) | ${f2(r.ratio)} | ${f2(r.pairedRatio)} | ${f1(r.cpu)} | ${r.config === BASE ? '—' : `${r.cpuDelta >= 0 ? '+' : ''}${f1(r.cpuDelta)}`} | ${f0(r.serverCpuShare * 100)} % | ${f2(r.p50)} | ${f2(r.p99)} | ${r.errors} |`,
)
const table = [...header, ...lines].join('\n')
console.log(`\n${table}\n`)
writeFileSync(options.summary, `${table}\n`)
writeFileSync(
  `${RESULTS}grpc-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
  JSON.stringify({ options, runs, rows }, null, 2),
)
