// Starting and stopping proxy processes with bounded waits, and free loopback ports.
import { type ChildProcess, spawn } from 'node:child_process'
import { connect, createServer } from 'node:net'

const running = new Set<ChildProcess>()
// Last resort: if the test worker exits without afterAll (a crash, a timeout), kill what is left.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** A port that was free on 127.0.0.1 a moment ago (nginx and HAProxy cannot listen on port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

export interface RunningProcess {
  readonly name: string
  readonly pid: number
  /** Everything the process wrote so far (stdout and stderr, capped at 64 KiB). */
  output(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>
}

/**
 * Spawns `command` and waits until it accepts TCP connections on 127.0.0.1:`port`. Fails (after
 * killing it) if it exits first or is not listening within `timeoutMs`, with its output in the error.
 */
export async function startListening(
  name: string,
  command: string,
  args: readonly string[],
  port: number,
  timeoutMs = 15_000,
): Promise<RunningProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let output = ''
  const append = (chunk: Buffer) => {
    if (output.length < 65_536) output += chunk.toString('utf8')
  }
  child.stdout!.on('data', append)
  child.stderr!.on('data', append)
  let exitCode: number | null | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null)
      running.delete(child)
      resolve()
    })
    child.once('error', (err) => {
      output += `\nspawn error: ${err.message}`
      exitCode = -1
      running.delete(child)
      resolve()
    })
  })
  const stop = async (graceMs = 5000): Promise<void> => {
    if (exitCode !== undefined) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
  const proc: RunningProcess = { name, pid: child.pid ?? -1, output: () => output, stop }

  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`${name} exited (code ${exitCode}) before listening on port ${port}:\n${output}`)
    }
    if (await canConnect('127.0.0.1', port)) return proc
    if (Date.now() > deadline) {
      await stop(1000)
      throw new Error(`${name} was not listening on port ${port} after ${timeoutMs} ms:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}
