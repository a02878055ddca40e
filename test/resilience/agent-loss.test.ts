// Point 1 (fast part): both adapters serve mTLS and JWT-SVID callers while the real `svidkit agent` is
// killed and restarted 3 times, then stays away past every SVID's expiry and returns. The soak does the
// same with 20 restarts and 30 s SVIDs (soak/agent-loss.soak.test.ts).
import { expect, test } from 'vitest'
import { adapters } from './harness/adapters/index.js'
import { runAgentLoss } from './harness/agent-loss.js'

test('agent loss under load: nothing served on an expired SVID, bounded recovery, fail closed and recover past expiry', async () => {
  const report = await runAgentLoss({
    adapters,
    restarts: 3,
    downMs: [300, 1500],
    upMs: 1000,
    svidTtlSeconds: 6,
    jwtSvidTtlSeconds: 6,
    backoff: { initialMs: 100, maxMs: 1000 },
    concurrency: 4,
    pastExpiry: true,
  })
  console.log(JSON.stringify({ ...report, recovery: report.recovery.map((r) => r.ms) }))
  expect(report.servedExpired).toBe(0)
  expect(report.served).toBeGreaterThan(50)
  for (const adapter of adapters) {
    for (const channel of ['mTLS', 'JWT-SVID']) {
      expect(
        report.load.byLabel[`${adapter.name} ${channel}`]?.ok,
        `${adapter.name} ${channel}`,
      ).toBeGreaterThan(0)
    }
  }
  expect(report.recovery).toHaveLength(3 * 4)
  for (const r of report.recovery)
    expect(r.ms, `${r.source}, restart ${r.restart}`).toBeLessThanOrEqual(report.recoveryBoundMs)
  const p = report.pastExpiry!
  expect(p.callsWhileExpired).toBeGreaterThan(0)
  expect(p.servedWhileExpired).toBe(0)
  expect(report.phases.expired?.ok).toBe(0)
  expect(report.phases.returned?.ok).toBeGreaterThan(0)
  expect(p.serviceHealthy).toBe(false)
  expect(p.serviceError).toBe('ERR_SOURCE_SVID_EXPIRED')
  expect(p.recoveredAfterMs).toBeLessThanOrEqual(report.recoveryBoundMs)
}, 120_000)
