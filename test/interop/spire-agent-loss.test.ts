// Issue 16, point 1 against the real thing: the resilience suite's agent-loss run (Fastify and
// Express services under mTLS and JWT-SVID load, see test/resilience/harness/agent-loss.ts) with a
// SPIRE v1.15.3 agent as the Workload API, killed (SIGKILL) and restarted 3 times, then kept away past
// every SVID's expiry. SPIRE's agent reloads its own SVID from disk on restart (KeyManager "disk").
import { afterAll, beforeAll, expect, it } from 'vitest'
import { adapters } from '../resilience/harness/adapters/index.js'
import { type AgentControl, runAgentLoss } from '../resilience/harness/agent-loss.js'
import { expectAgentLoss } from '../resilience/harness/expect-reports.js'
import { CLIENT_ID, SERVICE_ID } from '../resilience/harness/workloads.js'
import { describeWith, myUid, waitFor } from './harness/env.js'
import { SpireAgent, SpireServer } from './harness/spire.js'

const TTL_SECONDS = 30

describeWith(['spireServer', 'spireAgent'])('agent loss under load against SPIRE v1.15.3', () => {
  let server: SpireServer
  let agent: SpireAgent

  beforeAll(async () => {
    server = await SpireServer.start({
      name: 'loss',
      trustDomain: 'example.org',
      x509SvidTtl: `${TTL_SECONDS}s`,
      jwtSvidTtl: `${TTL_SECONDS}s`,
    })
    agent = await SpireAgent.start({ name: 'loss', server })
    for (const spiffeId of [SERVICE_ID, CLIENT_ID]) {
      await server.createEntry({ parentId: agent.spiffeId, spiffeId, selectors: [`unix:uid:${myUid}`] })
    }
    const { fetchX509Context } = await import('@svidkit/core/workload-api')
    await waitFor('the agent to issue both SVIDs to this process', async () => {
      const ctx = await fetchX509Context({ address: agent.address, signal: AbortSignal.timeout(5_000) })
      if (ctx.svids.length < 2) throw new Error(`${ctx.svids.length} SVID(s) so far`)
      return true
    })
  })

  afterAll(async () => {
    await agent?.stop()
    await server?.stop()
  })

  it('3 restarts under load, then past expiry: nothing served on an expired SVID, bounded recovery, fail closed, recovery without a restart', async () => {
    let startedAt = 0
    let readyAt = 0
    const control: AgentControl = {
      address: agent.address,
      get startedAt() {
        return startedAt
      },
      get readyAt() {
        return readyAt
      },
      kill: () => agent.kill('SIGKILL'),
      restart: async () => {
        startedAt = Date.now()
        await agent.restart() // resolves once `spire-agent healthcheck` passes
        readyAt = Date.now()
      },
    }
    const report = await runAgentLoss({
      adapters,
      agent: control,
      restarts: 3,
      downMs: [1000, 4000],
      upMs: 3000,
      svidTtlSeconds: TTL_SECONDS,
      jwtSvidTtlSeconds: TTL_SECONDS,
      backoff: { initialMs: 200, maxMs: 2000 },
      concurrency: 4,
      pastExpiry: true,
      log: (l) => console.log(`spire agent loss: ${l}`),
    })
    console.log(`SPIRE_AGENT_LOSS ${JSON.stringify(report)}`)
    expect(agent.restarts).toBe(4)
    expectAgentLoss(report, { noFailureDuringRestarts: true })
  }, 300_000)
})
