import type { SvidkitError } from '@svidkit/core/errors'
import { verifyJwtSvid } from '@svidkit/core/jwt-svid'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { JwtSource } from '@svidkit/core/workload-api'
import { DevAgent, type DevAgentPeer } from '@svidkit/testing'
import { describe, expect, test } from 'vitest'

const backoff = { initialMs: 50, maxMs: 200 }
const td = (name: string) => TrustDomain.parse(name)

/** An agent that counts FetchJWTSVID calls (through the attestor, called once per call). */
async function countingAgent(options: { jwtSvidTtlSeconds?: number } = {}) {
  const counter = { fetches: 0 }
  const agent = await DevAgent.start({
    identities: [{ spiffeId: '/web' }, { spiffeId: '/db' }],
    federation: ['partner.org'],
    ...options,
    attest: (peer: DevAgentPeer) => {
      if (peer.rpc === 'FetchJWTSVID') counter.fetches++
      return peer.socketIdentities
    },
  })
  return { agent, counter }
}

describe('JwtSource', () => {
  test('streams JWT bundles (a JwtBundleSource that verifies its own tokens)', async () => {
    const { agent } = await countingAgent()
    await using _agent = agent
    await using source = await JwtSource.create({ address: agent.address, backoff })
    expect(source.bundles.trustDomains().map(String)).toEqual(['example.org', 'partner.org'])
    expect(
      source.getJwtBundleForTrustDomain(td('example.org'))!.findAuthority(agent.ca.jwtKeyId),
    ).toBeDefined()
    expect(source.healthy).toBe(true)
    const svid = await source.fetchJwtSvid({ audience: 'orders' })
    expect(verifyJwtSvid(svid.token, source, { audience: 'orders' }).id.toString()).toBe(
      'spiffe://example.org/web',
    )
    const partner = await agent
      .federatedCa('partner.org')!
      .mintJwtSvid({ subject: '/api', audience: 'orders' })
    expect(verifyJwtSvid(partner, source, { audience: 'orders' }).id.toString()).toBe(
      'spiffe://partner.org/api',
    )

    // JWT key rotation is pushed; a removed federated trust domain is dropped.
    let updated = source.waitUntilUpdated(AbortSignal.timeout(5000))
    const kid = await agent.rotateJwtKey()
    await updated
    expect(source.getJwtBundleForTrustDomain(td('example.org'))!.findAuthority(kid)).toBeDefined()
    updated = source.waitUntilUpdated(AbortSignal.timeout(5000))
    agent.removeFederatedBundle('partner.org')
    await updated
    expect(source.getJwtBundleForTrustDomain(td('partner.org'))).toBeUndefined()
  })

  test('JWT-SVIDs are cached per audience + subject; concurrent reads share one fetch', async () => {
    const { agent, counter } = await countingAgent()
    await using _agent = agent
    await using source = await JwtSource.create({ address: agent.address, backoff })
    const [a, b, c] = await Promise.all([
      source.fetchJwtSvid({ audience: 'orders' }),
      source.fetchJwtSvid({ audience: 'orders' }),
      source.fetchJwtSvid({ audience: 'orders' }),
    ])
    expect(counter.fetches).toBe(1)
    expect(a).toBe(b)
    expect(b).toBe(c)
    expect(await source.fetchJwtSvid({ audience: 'orders' })).toBe(a)
    expect(counter.fetches).toBe(1)
    const other = await source.fetchJwtSvid({ audience: 'billing' })
    expect(other.audience).toEqual(['billing'])
    const db = await source.fetchJwtSvid({ audience: 'orders', subject: 'spiffe://example.org/db' })
    expect(db.id.path).toBe('/db')
    const extra = await source.fetchJwtSvid({ audience: 'orders', extraAudiences: ['x'] })
    expect(extra.audience).toEqual(['orders', 'x'])
    expect(counter.fetches).toBe(4)
    const all = await source.fetchJwtSvids({ audience: 'orders' })
    expect(all.map((s) => s.id.path)).toEqual(['/web', '/db'])
  })

  test('after half its lifetime a token is still returned while a refresh runs; the next read gets the new one', async () => {
    const { agent, counter } = await countingAgent({ jwtSvidTtlSeconds: 4 })
    await using _agent = agent
    await using source = await JwtSource.create({ address: agent.address, backoff })
    const first = await source.fetchJwtSvid({ audience: 'orders' })
    const half = first.issuedAt!.getTime() + (first.expiresAt.getTime() - first.issuedAt!.getTime()) / 2
    await new Promise((r) => setTimeout(r, Math.max(0, half - Date.now()) + 100))
    // iat/exp have 1 s resolution: make sure the agent mints a token with a later iat.
    await new Promise((r) => setTimeout(r, Math.max(0, first.issuedAt!.getTime() + 1000 - Date.now())))
    const stale = await source.fetchJwtSvid({ audience: 'orders' })
    expect(stale).toBe(first) // returned at once, refresh in the background
    await expect.poll(() => counter.fetches, { timeout: 3000 }).toBe(2)
    await expect.poll(async () => (await source.fetchJwtSvid({ audience: 'orders' })) !== first).toBe(true)
    const fresh = await source.fetchJwtSvid({ audience: 'orders' })
    expect(fresh.expiresAt.getTime()).toBeGreaterThan(first.expiresAt.getTime())
  })

  test('PermissionDenied drops bundles and cached tokens; FetchJWTSVID errors are reported', async () => {
    await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }] })
    await using source = await JwtSource.create({ address: agent.address, backoff })
    await source.fetchJwtSvid({ audience: 'orders' })
    const updated = source.waitUntilUpdated(AbortSignal.timeout(5000))
    agent.deny()
    await updated
    expect(source.getJwtBundleForTrustDomain(td('example.org'))).toBeUndefined()
    expect(source.healthy).toBe(false)
    const err = await source.fetchJwtSvid({ audience: 'orders' }).catch((e: SvidkitError) => e)
    expect(err.code).toBe('ERR_WORKLOAD_API_PERMISSION_DENIED')
    agent.allow()
    await expect.poll(() => source.healthy, { timeout: 5000 }).toBe(true)
  })

  test('close(): fetches and getters throw ERR_SOURCE_CLOSED', async () => {
    await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }] })
    const source = await JwtSource.create({ address: agent.address })
    await source.close()
    await expect(source.fetchJwtSvid({ audience: 'a' })).rejects.toMatchObject({ code: 'ERR_SOURCE_CLOSED' })
    expect(() => source.getJwtBundleForTrustDomain(td('example.org'))).toThrow(
      expect.objectContaining({ code: 'ERR_SOURCE_CLOSED' }),
    )
    expect(source.healthy).toBe(false)
  })
})
