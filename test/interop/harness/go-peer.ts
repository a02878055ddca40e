// Runs the go-spiffe peer (test/interop/go, go-spiffe v2.9.0). Every command prints one JSON object
// on stdout; servers and watchers first print `READY <detail>`. The peer can run under another uid,
// so that SPIRE's unix workload attestor sees it as a different workload than this test process.
import { spawn } from 'node:child_process'
import { chmodSync, copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { binaries, myUid } from './env.js'
import { tempDir, trackChild } from './processes.js'

/** Options of a peer process. */
export interface PeerOptions {
  /** Run as this uid (and gid): needs root. */
  uid?: number | undefined
  /** Kill the peer after this long. Default 60 s. */
  timeoutMs?: number
}

/** What a peer command printed and how it exited. */
export interface PeerResult<T = Record<string, unknown>> {
  exitCode: number | null
  /** The JSON object it printed (`{}` when none). */
  json: T & { ok?: boolean; error?: string }
  stderr: string
}

/** A running peer that printed `READY <detail>`. */
export interface RunningPeer<T = Record<string, unknown>> {
  /** What followed `READY ` (a listen address for servers). */
  readonly ready: string
  /** Resolves when the peer exits. */
  readonly done: Promise<PeerResult<T>>
  /** SIGTERM, then its result. */
  stop(): Promise<PeerResult<T>>
  /** Waits for the next stdout line starting with `prefix` (e.g. a watcher's `UPDATE 2`); bounded. */
  waitForLine(prefix: string, timeoutMs?: number): Promise<string>
}

let peerCopy: string | undefined

/**
 * The binary to run under another uid: a copy in a world-readable temp dir, since the checkout may sit
 * in a directory other users cannot enter.
 */
function peerBinary(uid: number | undefined): string {
  if (uid === undefined || uid === myUid) return binaries.goPeer
  if (!peerCopy) {
    peerCopy = join(tempDir('peer-bin'), 'spiffe-peer')
    copyFileSync(binaries.goPeer, peerCopy)
    chmodSync(peerCopy, 0o755)
  }
  return peerCopy
}

function spawnPeer(args: readonly string[], o: PeerOptions) {
  const child = spawn(peerBinary(o.uid), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.uid } : {}),
  })
  trackChild(child)
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d: string) => {
    stderr += d
  })
  const lines: string[] = []
  const waiters: ((line: string | undefined) => void)[] = []
  let ended = false
  const rl = createInterface({ input: child.stdout })
  rl.on('line', (line) => {
    const w = waiters.shift()
    if (w) w(line)
    else lines.push(line)
  })
  rl.on('close', () => {
    ended = true
    for (const w of waiters.splice(0)) w(undefined)
  })
  const nextLine = (): Promise<string | undefined> =>
    lines.length > 0
      ? Promise.resolve(lines.shift())
      : ended
        ? Promise.resolve(undefined)
        : new Promise((resolve) => waiters.push(resolve))
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000)
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
  const result = async <T>(): Promise<PeerResult<T>> => {
    const code = await exited
    const rest: string[] = [...lines.splice(0)]
    const last = rest.reverse().find((l) => l.trim().startsWith('{'))
    let json = {} as PeerResult<T>['json']
    if (last) {
      try {
        json = JSON.parse(last) as PeerResult<T>['json']
      } catch {
        // not JSON: reported through stderr/exit code
      }
    }
    return { exitCode: code, json, stderr }
  }
  return { child, nextLine, result, stderrText: () => stderr }
}

/** Runs a one-shot peer command to completion. */
export async function runPeer<T = Record<string, unknown>>(
  args: readonly string[],
  o: PeerOptions = {},
): Promise<PeerResult<T>> {
  const p = spawnPeer(args, o)
  return p.result<T>()
}

/** Starts a peer server or watcher and waits for its `READY` line. */
export async function startPeer<T = Record<string, unknown>>(
  args: readonly string[],
  o: PeerOptions = {},
): Promise<RunningPeer<T>> {
  const p = spawnPeer(args, o)
  for (;;) {
    const line = await p.nextLine()
    if (line === undefined) {
      const r = await p.result<T>()
      throw new Error(
        `spiffe-peer ${args[0]} exited (${r.exitCode}) before READY: ${JSON.stringify(r.json)} ${r.stderr}`,
      )
    }
    if (line.startsWith('READY ')) {
      const done = p.result<T>()
      return {
        ready: line.slice('READY '.length).trim(),
        done,
        stop: async () => {
          p.child.kill('SIGTERM')
          return done
        },
        waitForLine: async (prefix, timeoutMs = 30_000) => {
          const deadline = Date.now() + timeoutMs
          for (;;) {
            const next = await Promise.race([
              p.nextLine(),
              new Promise<'timeout'>((r) =>
                setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now())).unref(),
              ),
            ])
            if (next === 'timeout')
              throw new Error(`spiffe-peer ${args[0]}: no "${prefix}" line within ${timeoutMs} ms`)
            if (next === undefined)
              throw new Error(`spiffe-peer ${args[0]} exited before printing "${prefix}"`)
            if (next.startsWith(prefix)) return next
          }
        },
      }
    }
  }
}
