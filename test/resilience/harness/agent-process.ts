// The real `svidkit agent` (the CLI's built binary) as a child process that the tests kill (SIGKILL)
// and restart. `--ca-dir` keeps its CA across restarts, as a SPIRE agent keeps its server's CA, so a
// restart means "the agent was away", not "the trust domain changed". Its output goes to the capture.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { capture } from './capture.js'

const BIN = fileURLToPath(new URL('../../../packages/cli/bin/svidkit.js', import.meta.url))
const DIST = fileURLToPath(new URL('../../../packages/cli/dist/esm/index.js', import.meta.url))

export interface AgentProcessOptions {
  readonly trustDomain: string
  /** Identities on the socket; the first is the default. */
  readonly identities: readonly string[]
  readonly svidTtlSeconds: number
  readonly jwtSvidTtlSeconds: number
}

/** A `svidkit agent` process on a unix socket in a temp folder, with its CA kept in that folder. */
export class AgentProcess {
  readonly dir: string
  readonly address: string
  readonly #config: string
  #child: ChildProcess | undefined
  /** When the last start began (before the spawn), ms since the epoch. */
  startedAt = 0
  /** When the agent last became ready (its JSON line), ms since the epoch. */
  readyAt = 0
  starts = 0

  private constructor(dir: string, options: AgentProcessOptions) {
    this.dir = dir
    const socket = join(dir, 'agent.sock')
    this.address = `unix://${socket}`
    this.#config = join(dir, 'agent.json')
    writeFileSync(
      this.#config,
      JSON.stringify({
        trustDomain: options.trustDomain,
        svidTtlSeconds: options.svidTtlSeconds,
        jwtSvidTtlSeconds: options.jwtSvidTtlSeconds,
        socketPath: socket,
        identities: options.identities,
      }),
    )
  }

  /** Starts the first agent process. Needs the CLI build (`pnpm build` or `pnpm exec tsc -b`). */
  static async start(options: AgentProcessOptions): Promise<AgentProcess> {
    if (!existsSync(DIST))
      throw new Error(`the svidkit CLI is not built (${DIST}): run \`pnpm exec tsc -b\` first`)
    const agent = new AgentProcess(mkdtempSync(join(tmpdir(), 'svidkit-resilience-agent-')), options)
    await agent.restart()
    return agent
  }

  get running(): boolean {
    return this.#child !== undefined
  }

  /** Starts the process and resolves once it serves (bounded: 20 s). */
  async restart(): Promise<void> {
    if (this.#child) throw new Error('the agent is running')
    this.startedAt = Date.now()
    const child = spawn(
      process.execPath,
      [BIN, 'agent', '--config', this.#config, '--ca-dir', join(this.dir, 'ca'), '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.#child = child
    child.stderr?.on('data', (d: Buffer) => capture.line('agent', d.toString('utf8')))
    await new Promise<void>((resolve, reject) => {
      let buf = ''
      const timer = setTimeout(() => reject(new Error('svidkit agent did not start within 20 s')), 20_000)
      child.stdout?.on('data', (d: Buffer) => {
        const text = d.toString('utf8')
        capture.line('agent', text)
        buf += text
        if (buf.includes('\n')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`svidkit agent exited (${code ?? signal}) before serving`))
      })
    })
    this.readyAt = Date.now()
    this.starts++
  }

  /** Kills the process with SIGKILL (no goodbye to its clients) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#child
    if (!child) return
    this.#child = undefined
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await exited
  }

  /** Kills the process and removes its folder (CA, socket, config). */
  async close(): Promise<void> {
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
