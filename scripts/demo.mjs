// `pnpm demo`: builds the packages (the demo imports their dist/), then runs examples/demo/run.mjs,
// passing its arguments through (e.g. `pnpm demo --no-nginx`) and exiting with its status.
import { execFileSync, spawn } from 'node:child_process'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname

process.stdout.write('building the packages (node scripts/build.mjs)…\n')
try {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' })
} catch {
  console.error('✘ the build failed; the demo needs the built packages')
  process.exit(1)
}
process.stdout.write('\n')

const demo = spawn(process.execPath, [join(root, 'examples/demo/run.mjs'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
})
// The demo tears down its agent, services and nginx on SIGINT/SIGTERM: pass them on, wait for it.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => demo.kill(signal))
demo.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
