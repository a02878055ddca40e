// Runs an example as a real process on the built packages (dist/, brought up to date with `tsc -b`,
// a no-op after `pnpm build`): `node server.mjs --demo` of examples/grpc and examples/connect, and
// the demo's run.mjs. A demo exits 0 only when every call got the outcome it expects.
import { execFileSync, spawn } from 'node:child_process'
import { join } from 'node:path'

/** The repository root. */
export const root = join(import.meta.dirname, '..', '..', '..')

/** Brings every package's dist/ up to date (for a beforeAll). */
export function buildPackages(): void {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json'], {
    cwd: root,
    stdio: 'inherit',
  })
}

/**
 * `node <args>` in `cwd`: its exit code and everything it printed (stdout and stderr, interleaved).
 * With `timeoutMs`, the process is killed (SIGKILL) when it runs longer.
 */
export function runNode(
  args: readonly string[],
  options: { cwd: string; env?: Readonly<Record<string, string>>; timeoutMs?: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    const timer =
      options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/** `node server.mjs --demo` in `examples/<name>`, bounded at 60 s. */
export function runExampleDemo(name: string): Promise<{ code: number | null; output: string }> {
  return runNode(['server.mjs', '--demo'], { cwd: join(root, 'examples', name), timeoutMs: 60_000 })
}
