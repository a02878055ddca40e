// Point 1, agent loss under load: services of every adapter serve mTLS and JWT-SVID callers from the
// load generator while the real `svidkit agent` process is killed (SIGKILL) and restarted. Shared by
// the fast test (a few restarts, short TTLs) and the soak (20 restarts).
//
// Measured: calls served, refused and failed; callers served on an expired SVID (must be 0); for every
// restart and every Workload API source (the services' X509Source and BundleSource, the client's
// X509Source and JwtSource), the time from the agent's return (its "ready" line) to the source's first
// update, against the bound the backoff promises. Optionally the agent stays away past every SVID's
// expiry: the services must fail closed (nothing served, `healthy` false, `ERR_SOURCE_SVID_EXPIRED`)
// and recover by themselves when it returns.
import { SvidkitError } from '@svidkit/core/errors'
import { AgentProcess } from './agent-process.js'
import { capture } from './capture.js'
import { type LoadStats, runLoad } from './load.js'
import type { ResilienceAdapter } from './service.js'
import { sleep, until } from './wait.js'
import { startWorkloads, type Workloads } from './workloads.js'

/**
 * The agent under test: the `svidkit agent` process by default ({@link AgentProcess}), or a real SPIRE
 * agent (test/interop). It must serve `spiffe://example.org/orders` and `spiffe://example.org/web` to
 * this process.
 */
export interface AgentControl {
  readonly address: string
  /** When the last restart began (before the process was spawned), ms since the epoch. */
  readonly startedAt: number
  /** When the agent last came back (serving again), ms since the epoch. */
  readonly readyAt: number
  /** Kills it with SIGKILL and waits for the exit. */
  kill(): Promise<void>
  /** Starts it again and resolves once it serves. */
  restart(): Promise<void>
}

export interface AgentLossOptions {
  readonly adapters: readonly ResilienceAdapter[]
  /** Default: a `svidkit agent` process started (and closed) by the run, with the TTLs below. */
  readonly agent?: AgentControl
  readonly restarts: number
  /** How long the agent stays away each time: a value drawn uniformly in [min, max] ms. */
  readonly downMs: readonly [number, number]
  /** How long the agent stays up between restarts, counted from its return. */
  readonly upMs: number
  /** SVID lifetimes of the `svidkit agent` started by the run; with `agent`, what it is configured with. */
  readonly svidTtlSeconds: number
  readonly jwtSvidTtlSeconds: number
  /** The Workload API backoff of every source. */
  readonly backoff: { readonly initialMs: number; readonly maxMs: number }
  readonly concurrency: number
  /** Then stay away past every SVID's expiry, check that the services fail closed, and return. */
  readonly pastExpiry: boolean
  /** Progress lines. */
  readonly log?: (line: string) => void
}

export interface RecoverySample {
  readonly restart: number
  readonly source: string
  /**
   * ms from the agent's return to the source's first update from the new process. An update that
   * arrived before the readiness check reported it (a source reconnected between two polls of
   * `spire-agent healthcheck`) counts as 0.
   */
  readonly ms: number
}

/** Where the run is: agent restarts, then (past expiry) SVIDs running out, all expired, agent back. */
export type Phase = 'restarts' | 'expiring' | 'expired' | 'returned'

export interface PhaseStats {
  calls: number
  ok: number
  refused: number
  failed: number
  readonly reasons: Record<string, number>
}

export interface AgentLossReport {
  readonly restarts: number
  readonly load: LoadStats
  /** Outcomes per phase. */
  readonly phases: Record<string, PhaseStats>
  readonly served: number
  readonly servedExpired: number
  readonly expiredSamples: readonly { channel: string; lateMs: number }[]
  readonly expiredInFlight: number
  readonly servedByChannel: Record<string, number>
  readonly recovery: readonly RecoverySample[]
  /** The bound `recovery` must stay within: twice the backoff's maximum (the watch's own retry, plus the gRPC channel's reconnect, which svidkit caps at the same maximum), plus 1 s to connect and deliver. */
  readonly recoveryBoundMs: number
  readonly pastExpiry?: {
    /** Calls made while every SVID had expired, and how many were served (must be 0). */
    readonly callsWhileExpired: number
    readonly servedWhileExpired: number
    readonly serviceHealthy: boolean
    readonly serviceError: string | undefined
    /** ms from the agent's return until a call succeeded again. */
    readonly recoveredAfterMs: number
  }
}

export async function runAgentLoss(o: AgentLossOptions): Promise<AgentLossReport> {
  const log = o.log ?? (() => {})
  const owned =
    o.agent === undefined
      ? await AgentProcess.start({
          trustDomain: 'example.org',
          identities: ['/orders', '/web'],
          svidTtlSeconds: o.svidTtlSeconds,
          jwtSvidTtlSeconds: o.jwtSvidTtlSeconds,
        })
      : undefined
  const agent: AgentControl = o.agent ?? owned!
  let w: Workloads | undefined
  try {
    w = await startWorkloads({ address: agent.address, adapters: o.adapters, backoff: o.backoff })
    const { serviceSvid, updates, served } = w
    const stop = new AbortController()

    // Outcomes per phase: while the agent is killed and restarted; then, past expiry, while the SVIDs
    // run out, once all have expired, and after the agent's return.
    let phase: Phase = 'restarts'
    const phases: Record<string, PhaseStats> = {}
    let lastOkAt = 0
    const load = runLoad({
      concurrency: o.concurrency,
      durationMs: 60 * 60_000, // stopped by the signal; bounded by the hour regardless
      maxCalls: 50_000_000,
      signal: stop.signal,
      next: w.plan,
      onOutcome: (_call, outcome, _t0, t1) => {
        if (outcome.kind === 'ok') lastOkAt = t1
        if (outcome.kind === 'refused') capture.line('response', JSON.stringify(outcome.body))
        const p = phases[phase] ?? { calls: 0, ok: 0, refused: 0, failed: 0, reasons: {} }
        phases[phase] = p
        p.calls++
        p[outcome.kind]++
        if (outcome.kind !== 'ok') {
          const key = outcome.kind === 'refused' ? `refused:${outcome.code}` : `failed:${outcome.stage}`
          p.reasons[key] = (p.reasons[key] ?? 0) + 1
        }
      },
    })

    const recovery: RecoverySample[] = []
    const recoveryBoundMs = 2 * o.backoff.maxMs + 1000
    const waitRecovery = async (restart: number): Promise<void> => {
      // Any update since the process was spawned came from the new agent. Counting only those after
      // `readyAt` missed a JwtSource that had reconnected before the readiness check saw the agent:
      // its bundles do not change, so no second update comes.
      const started = agent.startedAt
      const back = agent.readyAt
      for (const name of Object.keys(updates)) {
        await until(
          () => updates[name]!.some((t) => t >= started),
          recoveryBoundMs + 30_000,
          `${name} to update after restart ${restart}`,
        )
        const first = updates[name]!.find((t) => t >= started)!
        recovery.push({ restart, source: name, ms: Math.max(0, first - back) })
      }
    }

    for (let i = 1; i <= o.restarts; i++) {
      await sleep(o.upMs)
      await agent.kill()
      const down = o.downMs[0] + Math.random() * (o.downMs[1] - o.downMs[0])
      await sleep(down)
      await agent.restart()
      await waitRecovery(i)
      log(
        `restart ${i}/${o.restarts}: away ${Math.round(down)} ms, recovered in ${recovery
          .slice(-4)
          .map((r) => r.ms)
          .join('/')} ms`,
      )
    }
    await sleep(o.upMs)

    let pastExpiry: AgentLossReport['pastExpiry']
    if (o.pastExpiry) {
      phase = 'expiring'
      await agent.kill()
      // Every SVID the agent issued has expired once the latest notAfter (service, client) has passed.
      const lastExpiry = Math.max(
        serviceSvid.getX509Svids().reduce((m, s) => Math.max(m, s.expiresAt.getTime()), 0),
        w.clientSvid().expiresAt.getTime(),
        Date.now() + o.jwtSvidTtlSeconds * 1000,
      )
      await sleep(lastExpiry - Date.now() + 1000)
      const servedBefore = served.served
      phase = 'expired'
      await sleep(3000)
      phase = 'returned'
      const servedWhileExpired = served.served - servedBefore
      let serviceError: string | undefined
      try {
        serviceSvid.getX509Svid()
      } catch (err) {
        serviceError = err instanceof SvidkitError ? err.code : String(err)
      }
      const serviceHealthy = serviceSvid.healthy
      await agent.restart()
      const back = agent.readyAt
      await until(
        () => lastOkAt > back,
        recoveryBoundMs + 30_000,
        'a call to succeed after the agent returned',
      )
      pastExpiry = {
        callsWhileExpired: phases.expired?.calls ?? 0,
        servedWhileExpired,
        serviceHealthy,
        serviceError,
        recoveredAfterMs: lastOkAt - back,
      }
      log(
        `past expiry: ${pastExpiry.callsWhileExpired} calls, ${servedWhileExpired} served; recovered in ${lastOkAt - back} ms`,
      )
      await sleep(o.upMs)
    }

    stop.abort()
    const stats = await load
    return {
      restarts: o.restarts,
      load: stats,
      phases,
      served: served.served,
      servedExpired: served.servedExpired,
      expiredSamples: served.expiredSamples,
      expiredInFlight: served.expiredInFlight,
      servedByChannel: served.byChannel,
      recovery,
      recoveryBoundMs,
      ...(pastExpiry ? { pastExpiry } : {}),
    }
  } finally {
    await w?.close()
    await owned?.close()
  }
}
