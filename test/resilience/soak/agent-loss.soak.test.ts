// Point 1 (soak): Fastify and Express services under mTLS and JWT-SVID load while the real
// `svidkit agent` is killed (SIGKILL) and restarted 20 times (away 0.5–8 s each), with 30-second SVIDs;
// then it stays away past every SVID's expiry and returns.
import { test } from 'vitest'
import { adapters } from '../harness/adapters/index.js'
import { runAgentLoss } from '../harness/agent-loss.js'
import { expectAgentLoss } from '../harness/expect-reports.js'

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
    // The agent never stays away for half an SVID's life during the restarts: nothing may fail then.
    expectAgentLoss(report, { noFailureDuringRestarts: true })
  },
  25 * 60_000,
)
