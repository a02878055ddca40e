// The expectations every agent-loss and rotation run shares (fast part, soak, SPIRE interop).
import { expect } from 'vitest'
import type { AgentLossReport } from './agent-loss.js'
import type { RotationReport } from './rotation.js'

/**
 * Nothing served on an expired SVID; every source back within the backoff's bound after each
 * restart; past expiry nothing served, the service unhealthy with ERR_SOURCE_SVID_EXPIRED, and serving
 * again within the bound once the agent returns. With `noFailureDuringRestarts` (the agent never stays
 * away for half an SVID's life), no call may be refused or fail while it restarts.
 */
export function expectAgentLoss(
  report: AgentLossReport,
  options: { noFailureDuringRestarts: boolean },
): void {
  expect(report.servedExpired, JSON.stringify(report.expiredSamples)).toBe(0)
  for (const channel of ['mtls', 'jwt']) expect(report.servedByChannel[channel], channel).toBeGreaterThan(0)
  if (options.noFailureDuringRestarts) {
    expect(report.phases.restarts, JSON.stringify(report.phases.restarts)).toMatchObject({
      refused: 0,
      failed: 0,
    })
  }
  expect(report.recovery).toHaveLength(report.restarts * 4)
  for (const r of report.recovery) {
    expect(r.ms, `${r.source}, restart ${r.restart}`).toBeLessThanOrEqual(report.recoveryBoundMs)
  }
  const p = report.pastExpiry!
  expect(p.callsWhileExpired).toBeGreaterThan(0)
  expect(p.servedWhileExpired).toBe(0)
  expect(report.phases.expired?.ok).toBe(0)
  expect(report.phases.returned?.ok).toBeGreaterThan(0)
  expect(p.serviceHealthy).toBe(false)
  expect(p.serviceError).toBe('ERR_SOURCE_SVID_EXPIRED')
  expect(p.recoveredAfterMs).toBeLessThanOrEqual(report.recoveryBoundMs)
}

/** No failed handshake or call, rotations seen, nothing served expired, and the CA rotation as SPIRE's. */
export function expectRotation(report: RotationReport, minRotations: number): void {
  expect(report.failedHandshakes).toBe(0)
  expect(report.load.refused + report.load.failed, JSON.stringify(report.load.reasons)).toBe(0)
  expect(report.serviceRotations).toBeGreaterThanOrEqual(minRotations)
  expect(report.clientRotations).toBeGreaterThanOrEqual(minRotations)
  expect(report.servedExpired).toBe(0)
  expect(report.bundleRotation).toMatchObject({
    newCaBefore: 'refused 401 ERR_X509_SVID_UNTRUSTED',
    newCaAfterArrival: 'ok',
    oldCaAfterRemoval: 'refused 401 ERR_X509_SVID_UNTRUSTED',
  })
}
