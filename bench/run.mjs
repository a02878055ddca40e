// `pnpm bench` entry point: runs one suite of the benchmarks, or all of them in sequence.
//
//   pnpm bench                      # the HTTP adapter benchmark (bench/http/run.mjs), its reported method
//   pnpm bench http --rounds 5      # arguments after the suite name go to that suite
//   pnpm bench micro                # bench/micro/verify.mjs, xfcc.mjs, then policy.mjs
//   pnpm bench tls                  # bench/tls/tls.bench.mjs
//   pnpm bench grpc                 # bench/grpc/run.mjs
//   pnpm bench all                  # micro, tls, http (about an hour)
//
// Every suite imports the built packages (dist/esm): run `pnpm exec tsc -b` (or `pnpm build`) first.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))
const SUITES = {
  http: [here('./http/run.mjs')],
  micro: [here('./micro/verify.mjs'), here('./micro/xfcc.mjs'), here('./micro/policy.mjs')],
  tls: [here('./tls/tls.bench.mjs')],
  grpc: [here('./grpc/run.mjs')],
}
SUITES.all = [...SUITES.micro, ...SUITES.tls, ...SUITES.http, ...SUITES.grpc]

const [first, ...rest] = process.argv.slice(2)
const suite = first && !first.startsWith('-') ? first : 'http'
const args = suite === first ? rest : process.argv.slice(2)
if (!SUITES[suite]) {
  console.error(`usage: pnpm bench [${Object.keys(SUITES).join('|')}] [args…]`)
  process.exit(2)
}
for (const pkg of ['core', 'fastify', 'express', 'grpc', 'nestjs']) {
  if (!existsSync(here(`../packages/${pkg}/dist/esm/index.js`))) {
    console.error(`packages/${pkg} is not built: run \`pnpm exec tsc -b\` (or \`pnpm build\`) first`)
    process.exit(1)
  }
}
for (const script of SUITES[suite]) {
  console.log(`\n# node ${script.slice(here('..').length)} ${args.join(' ')}`.trimEnd())
  const r = spawnSync(process.execPath, [script, ...(suite === 'all' ? [] : args)], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
