// The interop suite's own command (also run by `.ci/run` through scripts/test.mjs):
//
//   node test/interop/run.mjs [vitest args…]     # e.g. test/interop/spire.test.ts
//
// 1. Installs what is missing: spire-server and spire-agent v1.15.3 with `go install` into a cache
//    reused between runs ($SVIDKIT_CACHE or ~/.cache/svidkit), and builds the go-spiffe peer.
// 2. Runs `vitest run --project interop` from the repository root.
//
// Without a Go toolchain the suite is skipped with a message, unless CI=1 (or true): then it fails.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { hasGo, installInteropBinaries } from './setup/install-spire.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const ci = process.env.CI === '1' || process.env.CI === 'true'

if (!hasGo()) {
  const msg =
    'interop: no Go toolchain (`go`) on PATH; it is needed to build SPIRE v1.15.3 and the go-spiffe peer.'
  if (ci) {
    console.error(`${msg}\ninterop: FAILED (CI requires the interop suite)`)
    process.exit(1)
  }
  console.warn(`${msg}\ninterop: SKIPPED. Install Go (https://go.dev/dl/) to run it.`)
  process.exit(0)
}

const started = Date.now()
try {
  const bins = installInteropBinaries()
  console.log(`interop: spire-server ${bins.spireServer}\ninterop: go-spiffe peer ${bins.goPeer}`)
} catch (err) {
  console.error(
    `interop: installing SPIRE or building the go-spiffe peer failed:\n${err.stderr ?? err.message}`,
  )
  process.exit(1)
}

const vitest = join(root, 'node_modules', '.bin', 'vitest')
if (!existsSync(vitest)) {
  console.error('interop: vitest is not installed; run `pnpm install` at the repository root first')
  process.exit(1)
}
const r = spawnSync(vitest, ['run', '--project', 'interop', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CI: ci ? '1' : (process.env.CI ?? ''), SVIDKIT_INTEROP_INSTALLED: '1' },
})
console.log(
  `interop: ${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)}s`,
)
process.exit(r.status ?? 1)
