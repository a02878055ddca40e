// What @svidkit/nestjs's guard costs per request inside Nest, without sockets: the same Nest
// applications as bench/http's nest-* servers (servers/nest.mjs) driven in-process with
// light-my-request (Fastify's `inject`, Express through its request handler), every request carrying
// bench/http's two headers.
// 1. Process CPU time per request of the whole pipeline, blocks alternated over the configurations,
//    median of the blocks; Δ against the trivial guard (a global guard that returns true).
// 2. The guard's own part: `canActivate`'s time per request minus the time spent in core's
//    `verifyCaller` inside it (the verifier wrapped to time it), medians of the blocks.
//
//   pnpm exec tsc -b && node bench/http/nest-guard-micro.mjs [--blocks 21] [--requests 2000]
import { SvidkitGuard } from '@svidkit/nestjs'
import inject from 'light-my-request'
import { createFixture } from './fixture.mjs'
import { createNestApp } from './servers/nest.mjs'

const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : Number(argv[i + 1])
}
const BLOCKS = opt('--blocks', 21)
const REQUESTS = opt('--requests', 2000)
const CONFIGS = ['trivial-guard', 'svidkit-xfcc-policy', 'svidkit-jwt-cache', 'bare']
const SVIDKIT = ['svidkit-xfcc-policy', 'svidkit-jwt-cache']

const fixture = await createFixture(
  new URL('../results/tmp/nest-micro-fixture.json', import.meta.url).pathname,
)
const headers = { authorization: `Bearer ${fixture.token}`, 'x-forwarded-client-cert': fixture.xfcc }

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const sign = (d) => `${d >= 0 ? '+' : ''}${d.toFixed(2)}`

// Times every canActivate of the svidkit guard, and core's verifyCaller inside it.
const timing = { guard: 0n, core: 0n }
const canActivate = SvidkitGuard.prototype.canActivate
SvidkitGuard.prototype.canActivate = function timed(context) {
  const t0 = process.hrtime.bigint()
  try {
    return canActivate.call(this, context)
  } finally {
    timing.guard += process.hrtime.bigint() - t0
  }
}
const timedVerifier = (verifier) => ({
  ...verifier,
  verifyCaller(credentials, options) {
    const t0 = process.hrtime.bigint()
    try {
      return verifier.verifyCaller(credentials, options)
    } finally {
      timing.core += process.hrtime.bigint() - t0
    }
  },
})

for (const platform of ['express', 'fastify']) {
  const apps = {}
  for (const config of CONFIGS) {
    const app = await createNestApp(platform, config, fixture)
    await app.init()
    apps[config] = app
  }
  for (const config of SVIDKIT) {
    const app = await createNestApp(platform, config, fixture, timedVerifier)
    await app.init()
    apps[`${config} (timed)`] = app
  }
  const senders = {}
  for (const [name, app] of Object.entries(apps)) {
    const handler = platform === 'fastify' ? undefined : app.getHttpAdapter().getInstance()
    senders[name] =
      platform === 'fastify'
        ? () => app.inject({ method: 'GET', url: '/hello', headers })
        : () => inject(handler, { method: 'GET', url: '/hello', headers })
    const res = await senders[name]()
    if (res.statusCode !== 200 || res.payload !== 'hello')
      throw new Error(`${platform}/${name}: ${res.statusCode}`)
  }
  const cpu = Object.fromEntries(CONFIGS.map((c) => [c, []]))
  const own = Object.fromEntries(SVIDKIT.map((c) => [c, { guard: [], core: [] }]))
  for (let block = 0; block < BLOCKS; block++) {
    for (const config of CONFIGS) {
      const t0 = process.cpuUsage()
      for (let i = 0; i < REQUESTS; i++) await senders[config]()
      const t = process.cpuUsage(t0)
      cpu[config].push((t.user + t.system) / REQUESTS)
    }
    for (const config of SVIDKIT) {
      timing.guard = 0n
      timing.core = 0n
      for (let i = 0; i < REQUESTS; i++) await senders[`${config} (timed)`]()
      own[config].guard.push(Number(timing.guard) / REQUESTS / 1000)
      own[config].core.push(Number(timing.core) / REQUESTS / 1000)
    }
  }
  const base = median(cpu['trivial-guard'])
  console.log(`\nNest 12 on ${platform}, ${BLOCKS} blocks × ${REQUESTS} requests, alternated`)
  console.log('| configuration | process CPU µs/request (median) | min–max | Δ vs trivial guard |')
  console.log('|---|---:|---:|---:|')
  for (const config of CONFIGS) {
    const m = median(cpu[config])
    const range = `${Math.min(...cpu[config]).toFixed(1)}–${Math.max(...cpu[config]).toFixed(1)}`
    console.log(
      `| ${config} | ${m.toFixed(1)} | ${range} | ${config === 'trivial-guard' ? '—' : sign(m - base)} |`,
    )
  }
  console.log(
    '\n| configuration | canActivate µs (median) | of which core verifyCaller µs | the guard itself µs |',
  )
  console.log('|---|---:|---:|---:|')
  for (const config of SVIDKIT) {
    const g = median(own[config].guard)
    const c = median(own[config].core)
    const o = median(own[config].guard.map((x, i) => x - own[config].core[i]))
    console.log(`| ${config} | ${g.toFixed(2)} | ${c.toFixed(2)} | ${o.toFixed(2)} |`)
  }
  for (const app of Object.values(apps)) await app.close()
}
