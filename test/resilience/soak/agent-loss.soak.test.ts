// Point 1 (soak): Fastify and Express services under mTLS and JWT-SVID load while the real
// `svidkit agent` is killed (SIGKILL) and restarted 20 times (away 0.5–8 s each), with 30-second SVIDs;
// then it stays away past every SVID's expiry and returns.
import { expect, test } from 'vitest'
import { adapters } from '../harness/adapters/index.js'
import { runAgentLoss } from '../harness/agent-loss.js'

test(
  'agent loss soak: 20 restarts under load, then past expiry',
  async () => {
    const report = await runAgentLoss({
      adapters,
      restarts: Number(process.env.AGENT_RESTARTS ?? 20),
      downMs: [500, 8000],
      upMs: 4000,
      svidTtlSeconds: 30,
      jwtSvidTtlSeconds: 30,
      backoff: { initialMs: 200, maxMs: 2000 },
      concurrency: 4,
      pastExpiry: true,
      log: (l) => console.log(`agent loss: ${l}`),
    })
    console.log(`AGENT_LOSS ${JSON.stringify(report)}`)
    expect(report.servedExpired).toBe(0)
    // The agent never stays away for half an SVID's life during the restarts: nothing may fail then.
    expect(report.phases.restarts, JSON.stringify(report.phases.restarts)).toMatchObject({
      refused: 0,
      failed: 0,
    })
    for (const r of report.recovery)
      expect(r.ms, `${r.source}, restart ${r.restart}`).toBeLessThanOrEqual(report.recoveryBoundMs)
    const p = report.pastExpiry!
    expect(p.servedWhileExpired).toBe(0)
    expect(report.phases.expired?.ok).toBe(0)
    expect(p.serviceHealthy).toBe(false)
    expect(p.serviceError).toBe('ERR_SOURCE_SVID_EXPIRED')
    expect(p.recoveredAfterMs).toBeLessThanOrEqual(report.recoveryBoundMs)
  },
  25 * 60_000,
)
