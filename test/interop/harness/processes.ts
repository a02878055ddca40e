// Child processes of the interop suite: started with their output in a log file and tracked. The
// suites stop them in afterAll (SIGTERM, then SIGKILL after a grace period); whatever is still running
// is SIGKILLed, and every temp dir removed, when the test process exits or gets SIGTERM/SIGHUP. Where
// util-linux `setpriv` exists, children also get a parent-death signal, so even a SIGKILLed test
// worker leaves no SPIRE process behind.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logDir } from './env.js'

const live = new Set<ChildProcess>()
const dirs = new Set<string>()
const logsOpened = new Set<string>()
let hooked = false

function cleanupNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
}

function hookExit(): void {
  if (hooked) return
  hooked = true
  process.once('exit', cleanupNow)
  // A terminating signal skips 'exit': clean up, then die of the same signal.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupNow()
      process.kill(process.pid, signal)
    })
  }
}

/** Kills `child` at exit if it is still running (for processes not started by {@link startProcess}). */
export function trackChild(child: ChildProcess): void {
  hookExit()
  live.add(child)
  child.once('exit', () => live.delete(child))
}

const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p))

/** A new temp dir (world-traversable, so a peer under another uid can reach sockets in it), removed at exit. */
export function tempDir(prefix: string): string {
  hookExit()
  const dir = mkdtempSync(join(tmpdir(), `svidkit-interop-${prefix}-`))
  chmodSync(dir, 0o755)
  dirs.add(dir)
  return dir
}

/** Removes a temp dir now. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  dirs.delete(dir)
}

/** A process started by {@link startProcess}. */
export interface ManagedProcess {
  readonly child: ChildProcess
  readonly logFile: string
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | string>
  readonly running: boolean
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>
  /** The last lines of the log, for error messages. */
  tail(lines?: number): string
}

/**
 * Starts `command` with stdout and stderr appended to `<logDir>/<name>.log`.
 */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'stdio' | 'detached'> = {},
): ManagedProcess {
  hookExit()
  const logFile = join(logDir, `${name}.log`)
  // A log starts fresh in each run; a restarted process appends to its own.
  const fd = openSync(logFile, logsOpened.has(logFile) ? 'a' : 'w')
  logsOpened.add(logFile)
  const [cmd, argv] = setpriv
    ? [setpriv, ['--pdeathsig', 'KILL', '--', command, ...args]]
    : [command, [...args]]
  const child = spawn(cmd, argv, { ...options, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  live.add(child)
  let running = true
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false
      live.delete(child)
      resolve(code ?? signal ?? 'unknown')
    })
    child.once('error', () => {
      running = false
      live.delete(child)
      resolve('spawn error')
    })
  })
  return {
    child,
    logFile,
    exited,
    get running() {
      return running
    },
    async stop(graceMs = 5_000) {
      if (!running) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
    tail(lines = 25) {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
      } catch {
        return ''
      }
    },
  }
}
