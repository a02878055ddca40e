// Vitest global setup of the `interop` project: installs SPIRE (cached) and builds the go-spiffe peer
// before any interop test file runs, so `pnpm exec vitest run --project interop` works on its own.
// Without a Go toolchain it does nothing here: each suite file then skips with a message (or fails in CI).
import { hasGo, installInteropBinaries } from './install-spire.mjs'

export default function setup(): void {
  if (process.env.SVIDKIT_INTEROP_INSTALLED === '1') return // run.mjs just did it
  const ci = process.env.CI === '1' || process.env.CI === 'true'
  if (!hasGo()) {
    if (ci) throw new Error('interop: no Go toolchain found (required in CI)')
    console.warn('interop: no Go toolchain found; the interop suites will be skipped')
    return
  }
  installInteropBinaries()
}
