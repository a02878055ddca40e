// The load generator: `concurrency` workers call services through their adapter until the time or
// the call budget runs out (both always bounded), and count what happened. The server side counts
// what reached a handler (`ServedCounter`), including any caller served on an expired SVID.
import type { Caller } from '@svidkit/core/caller'
import type { CallOutcome, CallRequest, Operation, ResilienceAdapter, RunningService } from './service.js'

/** One call to make: which service, through which adapter, with what. */
export interface PlannedCall {
  readonly label: string
  readonly adapter: ResilienceAdapter
  readonly service: RunningService
  readonly request: CallRequest
}

export interface LoadOptions {
  /** Concurrent workers. */
  readonly concurrency: number
  /** Stop after this long. */
  readonly durationMs: number
  /** Stop after this many calls. */
  readonly maxCalls: number
  /** The next call (`undefined`: nothing to send right now; the worker waits 50 ms and asks again). */
  next(n: number): PlannedCall | undefined
  /** Sees every outcome, with the time the call started and ended. */
  onOutcome?(call: PlannedCall, outcome: CallOutcome, startedAt: number, endedAt: number): void
  /** Stops early when aborted. */
  readonly signal?: AbortSignal
}

/** Counts by outcome, per label. */
export interface LoadStats {
  calls: number
  ok: number
  refused: number
  failed: number
  /** `refused:<status>:<code>` and `failed:<stage>` → count. */
  readonly reasons: Record<string, number>
  readonly byLabel: Record<string, { calls: number; ok: number; refused: number; failed: number }>
  durationMs: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Runs the load until the time or call budget is spent (or `signal` aborts). */
export async function runLoad(options: LoadOptions): Promise<LoadStats> {
  const stats: LoadStats = { calls: 0, ok: 0, refused: 0, failed: 0, reasons: {}, byLabel: {}, durationMs: 0 }
  const started = Date.now()
  const deadline = started + options.durationMs
  let n = 0
  const more = () => Date.now() < deadline && n < options.maxCalls && !options.signal?.aborted
  const worker = async (): Promise<void> => {
    while (more()) {
      const call = options.next(n)
      if (call === undefined) {
        await sleep(50)
        continue
      }
      n++
      const t0 = Date.now()
      const outcome = await call.adapter.call(call.service, call.request)
      const t1 = Date.now()
      stats.calls++
      stats[outcome.kind]++
      const label = stats.byLabel[call.label] ?? { calls: 0, ok: 0, refused: 0, failed: 0 }
      stats.byLabel[call.label] = label
      label.calls++
      label[outcome.kind]++
      if (outcome.kind !== 'ok') {
        const reason =
          outcome.kind === 'refused'
            ? `refused:${outcome.status}:${outcome.code ?? '-'}`
            : `failed:${outcome.stage}`
        stats.reasons[reason] = (stats.reasons[reason] ?? 0) + 1
      }
      options.onOutcome?.(call, outcome, t0, t1)
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  stats.durationMs = Date.now() - started
  return stats
}

/**
 * Counts what reached the handlers of the services under test, per channel, and every caller whose
 * SVID (X.509-SVID `notAfter`, JWT-SVID `exp`) had expired when its request arrived: svidkit verified
 * it after that, so such a caller was served on an expired SVID, which must never happen. (An SVID
 * that expires between the request's arrival and its handler is counted apart, as in flight.) The
 * services under test run with no clock-skew tolerance, so the count is exact.
 */
export class ServedCounter {
  served = 0
  servedExpired = 0
  expiredInFlight = 0
  /** The first few callers served on an expired SVID: channel and how late, in ms. */
  readonly expiredSamples: { channel: string; lateMs: number }[] = []
  readonly byChannel: Record<string, number> = {}
  /** The `respond` of a `ServiceConfig`: counts, then answers `{ caller: id, channel }`. */
  readonly respond = (operation: Operation, caller: Caller | undefined, receivedAt: number): unknown => {
    this.served++
    if (operation === 'healthz') return { ok: true }
    const channel = caller?.channel ?? 'none'
    this.byChannel[channel] = (this.byChannel[channel] ?? 0) + 1
    const expiresAt = caller?.expiresAt?.getTime()
    if (expiresAt !== undefined && expiresAt < receivedAt) {
      this.servedExpired++
      if (this.expiredSamples.length < 20)
        this.expiredSamples.push({ channel, lateMs: receivedAt - expiresAt })
    } else if (expiresAt !== undefined && expiresAt < Date.now()) this.expiredInFlight++
    return { caller: caller?.spiffeId?.toString() ?? null, channel }
  }
}
