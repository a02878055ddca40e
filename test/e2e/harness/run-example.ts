// Runs `node server.mjs --demo` of an example (examples/grpc, examples/connect) as a real process on
// the built packages (dist/, brought up to date with `tsc -b`, a no-op after `pnpm build`), bounded
// at 60 s. The demo exits 0 only when its allowed call got through and its refused call was refused.
import { execFileSync, spawn } from 'node:child_process'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..', '..', '..')

/** Brings every package's dist/ up to date (for a beforeAll). */
export function buildPackages(): void {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json'], {
    cwd: root,
    stdio: 'inherit',
  })
}

/** `node server.mjs --demo` in `examples/<name>`: its exit code and everything it printed. */
export function runExampleDemo(name: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['server.mjs', '--demo'], {
      cwd: join(root, 'examples', name),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}
