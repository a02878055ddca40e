// Sockets of other trust domains (the dev agent as a stand-in for a second SPIRE deployment) and
// reconfigure(), over real unix sockets with core's Workload API clients.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { fetchJwtSvid, JwtSource, WorkloadApiClient, X509Source } from '@svidkit/core/workload-api'
import { verifyX509Svid } from '@svidkit/core/x509-svid'
import { codeOf, DevAgent, type DevAgentOptions, parseDevAgentConfig } from '@svidkit/testing'
import { afterEach, describe, expect, test } from 'vitest'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** The demo's shape: the agent's workload, a federated partner's, an unfederated stranger's. */
function options(): DevAgentOptions {
  const dir = mkdtempSync(join(tmpdir(), 'svidkit-agent-td-'))
  dirs.push(dir)
  return parseDevAgentConfig(
    `
trustDomain: example.org
svidTtlSeconds: 60
sockets:
  - name: web
    socketPath: ./web.sock
    identities: [/web]
  - name: partner
    socketPath: ./partner.sock
    trustDomain: partner.org
    identities: [/billing]
  - name: stranger
    socketPath: ./stranger.sock
    trustDomain: stranger.org
    identities: [spiffe://stranger.org/billing]
federation: [partner.org]
`,
    { baseDir: dir },
  )
}

const tds = (source: X509Source): string[] =>
  source.bundles
    .trustDomains()
    .map((td) => td.name)
    .sort()

async function federated(address: string): Promise<string[]> {
  const client = new WorkloadApiClient({ address })
  try {
    const ctx = await client.fetchX509Context()
    return ctx.bundles
      .trustDomains()
      .map((td) => td.name)
      .sort()
  } finally {
    client.close()
  }
}

async function until(condition: () => boolean): Promise<boolean> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 10))
  return condition()
}

describe('DevAgent: sockets of other trust domains', () => {
  test("a federated trust domain's workload: SVID from its CA, its bundle as own, the agent's as federated", async () => {
    await using agent = await DevAgent.start(options())
    const [web, partner, stranger] = agent.sockets
    expect(agent.sockets.map((s) => s.trustDomain.name)).toEqual([
      'example.org',
      'partner.org',
      'stranger.org',
    ])
    await using p = await X509Source.create({ address: partner!.address })
    await using w = await X509Source.create({ address: web!.address })
    const svid = p.getX509Svid()
    expect(svid.id.toString()).toBe('spiffe://partner.org/billing')
    expect(tds(p)).toEqual(['example.org', 'partner.org'])
    expect(tds(w)).toEqual(['example.org', 'partner.org'])
    // Issued by the partner CA the agent holds, which is the one it federates with.
    const partnerCa = agent.caOf('partner.org')!
    expect(agent.federatedCa('partner.org')).toBe(partnerCa)
    expect(p.getX509BundleForTrustDomain(TrustDomain.parse('partner.org'))!.toPem()).toBe(
      partnerCa.x509Bundle().toPem(),
    )
    // Each side verifies the other's SVID with the bundles the Workload API gave it.
    expect(verifyX509Svid(svid.certificates, w).id.toString()).toBe('spiffe://partner.org/billing')
    expect(verifyX509Svid(w.getX509Svid().certificates, p).id.toString()).toBe('spiffe://example.org/web')
    // The stranger trusts example.org (its default federatesWith), example.org does not trust it.
    expect(await federated(stranger!.address)).toEqual(['example.org', 'stranger.org'])
    const client = new WorkloadApiClient({ address: stranger!.address })
    const strangerSvid = await client.fetchX509Svid().finally(() => client.close())
    expect(strangerSvid.id.toString()).toBe('spiffe://stranger.org/billing')
    expect(codeOf(() => verifyX509Svid(strangerSvid.certificates, w))).toBe('ERR_X509_SVID_NO_BUNDLE')
  })

  test("JWT-SVIDs: minted by the socket's trust domain's CA, verified with the federated JWT bundles", async () => {
    await using agent = await DevAgent.start(options())
    const [web, partner, stranger] = agent.sockets
    const token = await fetchJwtSvid({ audience: 'spiffe://example.org/web' }, { address: partner!.address })
    expect(token.id.toString()).toBe('spiffe://partner.org/billing')
    await using jwt = await JwtSource.create({ address: web!.address })
    expect(
      jwt.bundles
        .trustDomains()
        .map((td) => td.name)
        .sort(),
    ).toEqual(['example.org', 'partner.org'])
    const client = new WorkloadApiClient({ address: web!.address })
    try {
      const ok = await client.validateJwtSvid(token.token, 'spiffe://example.org/web')
      expect(ok.id.toString()).toBe('spiffe://partner.org/billing')
      const foreign = await fetchJwtSvid(
        { audience: 'spiffe://example.org/web' },
        { address: stranger!.address },
      )
      const err = await client
        .validateJwtSvid(foreign.token, 'spiffe://example.org/web')
        .catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'ERR_WORKLOAD_API_JWT_SVID_INVALID' })
    } finally {
      client.close()
    }
  })

  test('federatesWith names what a socket of another trust domain trusts; an unknown one is refused', async () => {
    const o = options()
    const sockets = o.sockets!.map((s) => (s.name === 'stranger' ? { ...s, federatesWith: [] } : s))
    await using agent = await DevAgent.start({ ...o, sockets })
    expect(await federated(agent.sockets[2]!.address)).toEqual(['stranger.org'])
    const bad = { ...o, sockets: o.sockets!.map((s) => ({ ...s, federatesWith: ['nowhere.org'] })) }
    await expect(DevAgent.start(bad)).rejects.toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
      message: expect.stringContaining(
        'federates with nowhere.org, a trust domain the agent holds no CA for',
      ),
    })
    expect(codeOf(() => parseDevAgentConfig('sockets: [{socketPath: /a, federatesWith: x}]'))).toBe(
      'ERR_OPTIONS_INVALID',
    )
  })
})

describe('DevAgent.reconfigure', () => {
  test("federation removed and added again: pushed on the open streams, the partner's CA kept", async () => {
    const o = options()
    await using agent = await DevAgent.start(o)
    const [web, partner] = agent.sockets
    await using w = await X509Source.create({ address: web!.address })
    await using p = await X509Source.create({ address: partner!.address })
    const partnerSvid = p.getX509Svid()
    const before = agent.caOf('partner.org')

    const removed = await agent.reconfigure({ ...o, federation: [] })
    expect(removed).toEqual({ federationAdded: [], federationRemoved: ['partner.org'], socketsChanged: [] })
    expect(await until(() => tds(w).join() === 'example.org')).toBe(true)
    expect(codeOf(() => verifyX509Svid(partnerSvid.certificates, w))).toBe('ERR_X509_SVID_NO_BUNDLE')
    // The other deployment still runs: same CA, still trusts example.org.
    expect(agent.caOf('partner.org')).toBe(before)
    expect(agent.federatedCa('partner.org')).toBeUndefined()
    expect(tds(p)).toEqual(['example.org', 'partner.org'])

    const added = await agent.reconfigure(o)
    expect(added.federationAdded).toEqual(['partner.org'])
    expect(await until(() => tds(w).includes('partner.org'))).toBe(true)
    expect(verifyX509Svid(p.getX509Svid().certificates, w).id.toString()).toBe('spiffe://partner.org/billing')
  })

  test("a socket's identities change; anything that needs a restart is refused and nothing changes", async () => {
    const o = options()
    await using agent = await DevAgent.start(o)
    const web = agent.sockets[0]!
    await using w = await X509Source.create({ address: web.address })
    const sockets = o.sockets!.map((s) =>
      s.name === 'web' ? { ...s, identities: [{ spiffeId: '/web-v2' }] } : s,
    )
    expect((await agent.reconfigure({ ...o, sockets })).socketsChanged).toEqual(['web'])
    expect(await until(() => w.getX509Svid().id.toString() === 'spiffe://example.org/web-v2')).toBe(true)

    const refused = [
      [{ ...o, sockets, svidTtlSeconds: 30 }, 'changing svidTtlSeconds needs a restart'],
      [{ ...o, sockets, trustDomain: 'other.org' }, 'changing the trust domain'],
      [{ ...o, sockets: sockets.slice(1) }, 'changing the number of sockets needs a restart'],
      [{ ...o, sockets: sockets.map((s, i) => (i === 0 ? { ...s, name: 'web2' } : s)) }, 'socket web'],
      [
        {
          ...o,
          sockets: [{ ...sockets[0]!, identities: [{ spiffeId: 'spiffe://x.org/a' }] }, ...sockets.slice(1)],
        },
        'not in the trust domain example.org',
      ],
      [{ ...o, sockets, federation: [] as string[], bundleEndpoint: true }, 'changing bundleEndpoint'],
    ] as const
    for (const [next, message] of refused) {
      await expect(agent.reconfigure(next as DevAgentOptions), message).rejects.toMatchObject({
        code: 'ERR_OPTIONS_INVALID',
        message: expect.stringContaining(message),
      })
    }
    // Nothing of the refused ones was applied: still federated, still /web-v2.
    expect(agent.federatedTrustDomains.map((td) => td.name)).toEqual(['partner.org'])
    expect(agent.sockets[0]!.identities).toEqual([{ spiffeId: '/web-v2' }])
    expect(tds(w)).toEqual(['example.org', 'partner.org'])
  })
})
