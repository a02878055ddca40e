// Where a configuration's server CPU goes, per request: each server of bench/http runs under
// `node --cpu-prof` while autocannon drives it (the same fixture, headers and `-c 10 -p 1` as run.mjs),
// and the profile's self time is split by who owns the code — svidkit's packages, the framework,
// the rest of node_modules, Node's own JavaScript, native code and GC — in µs per answered request,
// with the svidkit functions that cost the most. Plain-HTTP configurations only.
//
//   pnpm exec tsc -b
//   node bench/http/profile.mjs --framework fastify --configs naive-xfcc,svidkit-xfcc-policy [--duration 10] [--interval 100]
//
// Sampling (the default interval is 100 µs) misattributes short functions; compare configurations
// profiled the same way, side by side, not absolute numbers across runs.
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createFixture, PATH } from './fixture.mjs'
import { isTls } from './servers/common.mjs'

const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : argv[i + 1]
}
const framework = opt('--framework', 'fastify')
const configs = opt('--configs', 'naive-xfcc,svidkit-xfcc-policy').split(',')
const duration = Number(opt('--duration', '10'))
const interval = Number(opt('--interval', '100'))
for (const c of configs) if (isTls(c)) throw new Error(`${c}: TLS configurations are not profiled here`)

const require = createRequire(import.meta.url)
const AUTOCANNON = require.resolve('autocannon/autocannon.js')
const server = fileURLToPath(new URL(`./servers/${framework}.mjs`, import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'svidkit-profile-'))
const fixtureFile = join(work, 'fixture.json')
const fixture = await createFixture(fixtureFile)

/** Who owns a profile node's code. */
function ownerOf(frame) {
  const url = frame.url ?? ''
  if (url === '') {
    if (frame.functionName === '(garbage collector)') return 'GC'
    if (frame.functionName === '(idle)') return 'idle'
    return 'native (OpenSSL, libuv, syscalls, V8 builtins)'
  }
  if (url.startsWith('node:')) return 'Node.js (JavaScript)'
  if (/\/packages\/[a-z]+\/dist\//.test(url) || url.includes('/@svidkit/')) return 'svidkit'
  if (
    url.includes(`/node_modules/${framework}/`) ||
    /find-my-way|light-my-request|avvio|router|body-parser/.test(url)
  )
    return framework
  if (url.includes('/node_modules/')) return 'other node_modules'
  return 'bench server'
}

function run(cmd, args, env = {}) {
  return spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
}

async function profile(config) {
  const dir = join(work, config)
  const child = run(
    process.execPath,
    ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', String(interval), server, config, '0'],
    { SVIDKIT_BENCH_FIXTURE: fixtureFile, NODE_ENV: 'production' },
  )
  const port = await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /READY (\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', (code) => reject(new Error(`${config}: server exited (${code})`)))
  })
  const load = run(AUTOCANNON, [
    ...['-c', '10', '-p', '1', '-d', String(duration), '-j'],
    ...['-H', `authorization:Bearer ${fixture.token}`, '-H', `x-forwarded-client-cert:${fixture.xfcc}`],
    `http://127.0.0.1:${port}${PATH}`,
  ])
  let json = ''
  load.stdout.on('data', (d) => {
    json += d
  })
  await new Promise((resolve) => load.once('exit', resolve))
  const requests = JSON.parse(json)['2xx']
  await new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'))
  // Self time per node: samples × the interval between consecutive samples.
  const self = new Map()
  for (let i = 0; i < prof.samples.length; i++) {
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i + 1] ?? 0))
  }
  const byOwner = new Map()
  const bySvidkitFunction = new Map()
  for (const node of prof.nodes) {
    const us = self.get(node.id) ?? 0
    if (us === 0) continue
    const owner = ownerOf(node.callFrame)
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us)
    if (owner === 'svidkit') {
      const where = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/.*\/packages\//, '')}`
      bySvidkitFunction.set(where, (bySvidkitFunction.get(where) ?? 0) + us)
    }
  }
  // Only the measured load: the idle time before and after it is not a request's cost.
  byOwner.delete('idle')
  const perRequest = (us) => us / requests
  return { config, requests, byOwner, bySvidkitFunction, perRequest }
}

const results = []
for (const config of configs) results.push(await profile(config))
rmSync(work, { recursive: true, force: true })

const owners = [...new Set(results.flatMap((r) => [...r.byOwner.keys()]))].sort()
console.log(
  `${framework}, ${duration} s of autocannon -c 10 -p 1 per configuration, --cpu-prof-interval ${interval} µs, Node ${process.version}`,
)
console.log(`| owner | ${results.map((r) => `${r.config} µs/req`).join(' | ')} |`)
console.log(`|---|${results.map(() => '---:').join('|')}|`)
for (const owner of owners) {
  console.log(
    `| ${owner} | ${results.map((r) => r.perRequest(r.byOwner.get(owner) ?? 0).toFixed(2)).join(' | ')} |`,
  )
}
const total = (r) => [...r.byOwner.values()].reduce((a, b) => a + b, 0)
console.log(
  `| **sampled, without idle** | ${results.map((r) => r.perRequest(total(r)).toFixed(2)).join(' | ')} |`,
)
console.log(`| requests answered | ${results.map((r) => r.requests).join(' | ')} |`)
for (const r of results) {
  const top = [...r.bySvidkitFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)
  if (top.length === 0) continue
  console.log(`\n${r.config}: svidkit functions by self time`)
  console.log('| function | µs/req |\n|---|---:|')
  for (const [fn, us] of top) console.log(`| \`${fn}\` | ${r.perRequest(us).toFixed(3)} |`)
}
