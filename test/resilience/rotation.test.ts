// Point 2 (fast part): 4-second SVIDs for 20 seconds under load, with a CA rotation of the trust
// bundle halfway. soak/rotation.soak.test.ts: 30-second SVIDs for 10 minutes.
import { expect, test } from 'vitest'
import { adapters } from './harness/adapters/index.js'
import { runRotation } from './harness/rotation.js'

test('rotation under load: no failed handshake or request; a CA rotation of the bundle applies at once', async () => {
  const report = await runRotation({ adapters, durationMs: 20_000, svidTtlSeconds: 4, concurrency: 4 })
  console.log(`ROTATION ${JSON.stringify(report)}`)
  expect(report.failedHandshakes).toBe(0)
  expect(report.load.refused + report.load.failed, JSON.stringify(report.load.reasons)).toBe(0)
  expect(report.load.ok).toBeGreaterThan(100)
  expect(report.serviceRotations).toBeGreaterThanOrEqual(5)
  expect(report.clientRotations).toBeGreaterThanOrEqual(5)
  expect(report.servedExpired).toBe(0)
  expect(report.bundleRotation).toMatchObject({
    newCaBefore: 'refused 401 ERR_X509_SVID_UNTRUSTED',
    newCaAfterArrival: 'ok',
    oldCaAfterRemoval: 'refused 401 ERR_X509_SVID_UNTRUSTED',
  })
}, 60_000)
