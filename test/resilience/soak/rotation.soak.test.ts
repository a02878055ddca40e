// Point 2 (soak): 30-second SVIDs for 10 minutes under continuous load on every adapter (about 40
// rotations of each workload's SVID), with a CA rotation of the trust bundle in the middle: 0 failed
// handshakes, 0 failed requests, nothing served on an expired SVID.
import { test } from 'vitest'
import { adapters } from '../harness/adapters/index.js'
import { expectRotation } from '../harness/expect-reports.js'
import { runRotation } from '../harness/rotation.js'

const MINUTES = Number(process.env.ROTATION_MINUTES ?? 10)

test(
  `rotation soak: 30 s SVIDs for ${MINUTES} minutes under load`,
  async () => {
    const report = await runRotation({
      adapters,
      durationMs: MINUTES * 60_000,
      svidTtlSeconds: 30,
      concurrency: 4,
      log: (l) => console.log(`rotation: ${l}`),
    })
    console.log(`ROTATION ${JSON.stringify(report)}`)
    expectRotation(report, 10)
  },
  20 * 60_000,
)
