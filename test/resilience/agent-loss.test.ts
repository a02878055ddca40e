// Point 1 (fast part): both adapters serve mTLS and JWT-SVID callers while the real `svidkit agent` is
// killed and restarted 3 times, then stays away past every SVID's expiry and returns. With 6-second
// SVIDs an absence can outlast an SVID, so calls may fail while the agent restarts; never on an
// expired SVID. The soak does the same with 20 restarts and 30 s SVIDs (soak/agent-loss.soak.test.ts).
import { test } from 'vitest'
import { adapters } from './harness/adapters/index.js'
import { runAgentLoss } from './harness/agent-loss.js'
import { expectAgentLoss } from './harness/expect-reports.js'

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
  console.log(`AGENT_LOSS ${JSON.stringify(report)}`)
  expectAgentLoss(report, { noFailureDuringRestarts: false })
}, 120_000)
