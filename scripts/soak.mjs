// `pnpm test:soak`: the long part of the proof under failure (test/resilience/README.md). Builds, then
// runs the soak files of test/resilience/soak in two lanes side by side (2 cores):
//
//   lane 1: fuzz-b (policy, bundles, forwarded certs: 10^6 runs each)   then fuzz-a (the other five)
//   lane 2: rotation (10 min) then agent loss (20 restarts)             then memory (10^5 callers)
//
// Every file runs in its own vitest process; output goes to test/resilience/.soak/<file>.log, and the
// result lines (ROTATION, AGENT_LOSS, MEMORY, FUZZ) are printed at the end. Exit 1 if any file fails.
// Bounded: a lane that runs past 40 minutes is killed.
import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const logs = join(root, 'test', 'resilience', '.soak')
mkdirSync(logs, { recursive: true })
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const started = Date.now()
const elapsed = () => `${((Date.now() - started) / 60_000).toFixed(1)} min`

console.log(
  `soak: ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
)
const build = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], {
  cwd: root,
  stdio: 'inherit',
})
if (build.status !== 0) process.exit(1)

/** Runs one soak file in its own vitest process; resolves with its exit code. */
function run(file) {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const log = createWriteStream(join(logs, `${file}.log`))
    console.log(`soak: ${file} started (${elapsed()})`)
    const child = spawn(
      process.execPath,
      [vitest, 'run', '--project', 'soak', `test/resilience/soak/${file}`],
      {
        cwd: root,
        env: { ...process.env, SVIDKIT_SOAK: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    child.stdout.pipe(log, { end: false })
    child.stderr.pipe(log, { end: false })
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 40 * 60_000)
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog)
      log.end()
      const secs = ((Date.now() - t0) / 1000).toFixed(0)
      console.log(
        `soak: ${file} ${code === 0 ? 'passed' : `FAILED (${code ?? signal})`} in ${secs} s (${elapsed()})`,
      )
      resolve(code ?? 1)
    })
  })
}

const lane = async (files) => {
  const codes = []
  for (const f of files) codes.push(await run(f))
  return codes
}

const [lane1, lane2] = await Promise.all([
  lane(['fuzz-b.soak.test.ts', 'fuzz-a.soak.test.ts']),
  lane(['rotation.soak.test.ts', 'agent-loss.soak.test.ts', 'memory.soak.test.ts']),
])

console.log(`\nsoak: results (logs in ${logs})`)
for (const f of ['fuzz-a', 'fuzz-b', 'rotation', 'agent-loss', 'memory']) {
  const text = readFileSync(join(logs, `${f}.soak.test.ts.log`), 'utf8')
  for (const raw of text.split('\n')) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colour codes of vitest's output
    const line = raw.replace(/\u001b\[[0-9;]*m/g, '')
    if (/^(FUZZ|ROTATION|AGENT_LOSS|MEMORY|CAPTURE) /.test(line)) console.log(`${f}: ${line}`)
  }
}
const failed = [...lane1, ...lane2].filter((c) => c !== 0).length
console.log(`\nsoak: ${failed === 0 ? 'all passed' : `${failed} file(s) FAILED`} in ${elapsed()}`)
process.exit(failed === 0 ? 0 : 1)
