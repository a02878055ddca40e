#!/usr/bin/env node
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

// In a clone of the svidkit repository (`pnpm svidkit …` at its root), the packages may not be built
// yet: build them once, reporting on stderr so that `--json` output stays one object on stdout.
const entry = new URL('../dist/esm/index.js', import.meta.url)
const buildScript = new URL('../../../scripts/build.mjs', import.meta.url)
if (!existsSync(entry) && existsSync(buildScript)) {
  process.stderr.write('svidkit: building the workspace packages first (node scripts/build.mjs)…\n')
  execFileSync(process.execPath, [fileURLToPath(buildScript)], { stdio: ['ignore', 2, 2] })
}

const { main } = await import(entry.href)
process.exitCode = await main(process.argv.slice(2))
