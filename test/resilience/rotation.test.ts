// Point 2 (fast part): 4-second SVIDs for 20 seconds under load, with a CA rotation of the trust
// bundle halfway. soak/rotation.soak.test.ts: 30-second SVIDs for 10 minutes.
import { test } from 'vitest'
import { adapters } from './harness/adapters/index.js'
import { expectRotation } from './harness/expect-reports.js'
import { runRotation } from './harness/rotation.js'

test('rotation under load: no failed handshake or request; a CA rotation of the bundle applies at once', async () => {
  const report = await runRotation({ adapters, durationMs: 20_000, svidTtlSeconds: 4, concurrency: 4 })
  console.log(`ROTATION ${JSON.stringify(report)}`)
  expectRotation(report, 5)
}, 60_000)
