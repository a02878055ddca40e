// Child processes of the demo (the agent, the services, nginx) and their teardown: every process and
// every cleanup step is registered here, and `teardown()` undoes them in reverse order, once, whether
// the demo ends normally, fails, or is interrupted. A synchronous last resort on `exit` kills whatever
// is still running and removes the temp dir.
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'

const running = new Set()
const cleanups = []
const tempDirs = []
let tornDown

/** Spawns a child whose output is kept (the last 64 KiB) for error messages. */
export function startProcess(name, command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  running.add(child)
  let output = ''
  const keep = (chunk) => {
    output = (output + chunk.toString('utf8')).slice(-65_536)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
    child.once('error', (err) => {
      output += `\nspawn error: ${err.message}`
      running.delete(child)
      resolve({ code: -1, signal: null })
    })
  })
  let exitInfo
  exited.then((info) => {
    exitInfo = info
  })
  const proc = {
    name,
    child,
    exited,
    get exitInfo() {
      return exitInfo
    },
    output: () => output,
    /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
    async stop(graceMs = 3000) {
      if (exitInfo || child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
  onTeardown(() => proc.stop())
  return proc
}

/** Registers a cleanup step; teardown runs them last-registered first. */
export function onTeardown(step) {
  cleanups.push(step)
}

/** A temp dir to remove at teardown (and on exit, whatever happens). */
export function removeOnExit(dir) {
  tempDirs.push(dir)
}

/** Undoes everything, last registered first; later calls return the same promise. */
export function teardown() {
  tornDown ??= (async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step()
      } catch {
        // keep going: everything else must still be cleaned up
      }
    }
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  })()
  return tornDown
}

/** Rejects after `ms` with `message`, unless `promise` settles first. */
export function withTimeout(promise, ms, message) {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})
