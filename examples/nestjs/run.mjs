// Runs this example on its own: builds it, then the svidkit dev agent, dist/main.js, and two callers
// (see ../kit). PLATFORM=fastify node run.mjs runs it on Fastify.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { buildPackages, runExample } from '@svidkit-examples/kit'

buildPackages()
execFileSync(
  process.execPath,
  [fileURLToPath(import.meta.resolve('typescript/bin/tsc')), '-p', 'tsconfig.json'],
  {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    stdio: 'inherit',
  },
)
await runExample(new URL('./dist/main.js', import.meta.url), '/orders/42')
