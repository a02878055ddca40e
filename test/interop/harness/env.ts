// Where the interop binaries are, whether the suite can run, and small shared helpers (free ports,
// polling, log directory). The binaries are installed by setup/install-spire.mjs (run.mjs and the
// vitest global setup call it); a suite file skips itself with a clear message when they are
// missing, except in CI (CI=1), where that is a failure.
import { existsSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { homedir, userInfo } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe } from 'vitest'

export const SPIRE_VERSION = 'v1.15.3'
export const GO_SPIFFE_VERSION = 'v2.9.0'

const here = dirname(fileURLToPath(import.meta.url))
export const interopDir = join(here, '..')
const cache = process.env.SVIDKIT_CACHE ?? join(homedir(), '.cache', 'svidkit')
const spireBin = join(cache, `spire-${SPIRE_VERSION}`, 'bin')

export const binaries = {
  spireServer: join(spireBin, 'spire-server'),
  spireAgent: join(spireBin, 'spire-agent'),
  goPeer: join(interopDir, 'go', 'bin', 'spiffe-peer'),
} as const

/** Logs of every process the suite starts (kept after the run; the directory is git-ignored). */
export const logDir = join(interopDir, '.work', 'logs')
mkdirSync(logDir, { recursive: true })

export const ci = process.env.CI === '1' || process.env.CI === 'true'

function missing(names: readonly (keyof typeof binaries)[]): string[] {
  return names.filter((n) => !existsSync(binaries[n])).map((n) => binaries[n])
}

/**
 * `describe` when the binaries a suite needs exist, else `describe.skip` with a message saying how to
 * get them. In CI a missing binary is an error: the interop suite must never be skipped silently there.
 */
export function describeWith(
  needs: readonly (keyof typeof binaries)[],
): typeof describe | typeof describe.skip {
  const gone = missing(needs)
  if (gone.length === 0) return describe
  const msg = `interop: missing ${gone.join(', ')}; run \`node test/interop/run.mjs\` (needs a Go toolchain)`
  if (ci) throw new Error(msg)
  console.warn(`${msg}; skipping`)
  return describe.skip
}

/** The uid of this process (unix workload attestation keys on it). */
export const myUid = process.getuid?.() ?? userInfo().uid
/** The gid of this process. */
export const myGid = process.getgid?.() ?? userInfo().gid

/**
 * A second uid for the go-spiffe peer, so SPIRE attests it as another workload than this process.
 * Only root can start a process under another uid; otherwise `undefined` (tests that need two
 * SPIRE identities on one agent are then skipped).
 */
export const peerUid: number | undefined = myUid === 0 ? 64_123 : undefined
/** A uid with no registration entry at all (a workload SPIRE knows nothing about). */
export const strangerUid: number | undefined = myUid === 0 ? 64_124 : undefined

/** A free TCP port on 127.0.0.1 (bound and released; good enough on a test machine). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))))
    })
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Polls `probe` every `intervalMs` until it returns something other than `undefined`/`false` (or
 * stops throwing), for at most `timeoutMs`; then throws with `what` and the last error.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined && v !== false) return v as Exclude<T, false | undefined>
      last = undefined
    } catch (err) {
      last = err
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? `: ${last.message}` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, { cause: last })
    }
    await sleep(intervalMs)
  }
}

/** The first `code` along an error's `cause` chain (undici wraps connection errors). */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && i < 10; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}
