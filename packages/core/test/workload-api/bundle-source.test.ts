import { TrustDomain } from '@svidkit/core/spiffe-id'
import { BundleSource } from '@svidkit/core/workload-api'
import { verifyX509Svid } from '@svidkit/core/x509-svid'
import { DevAgent } from '@svidkit/testing'
import { describe, expect, test } from 'vitest'

const backoff = { initialMs: 50, maxMs: 200 }
const td = (name: string) => TrustDomain.parse(name)

describe('BundleSource', () => {
  test('works for a verifier without an identity (FetchX509Bundles + FetchJWTBundles, not FetchX509SVID)', async () => {
    await using agent = await DevAgent.start({
      identities: [],
      allowUnauthenticatedVerifiers: true,
      federation: ['partner.org'],
    })
    await using bundles = await BundleSource.create({ address: agent.address, backoff })
    // As SPIRE: a caller without an identity gets the agent's own trust domain only.
    expect(bundles.trustDomains().map(String)).toEqual(['example.org'])
    expect(bundles.getX509BundleForTrustDomain(td('example.org'))!.hasAuthority(agent.ca.certificate)).toBe(
      true,
    )
    expect(
      bundles.getJwtBundleForTrustDomain(td('example.org'))!.findAuthority(agent.ca.jwtKeyId),
    ).toBeDefined()
    const peer = await agent.ca.issueX509Svid({ id: '/peer' })
    expect(verifyX509Svid(peer.certificates, bundles).id.toString()).toBe('spiffe://example.org/peer')
    expect(bundles.healthy).toBe(true)
  })

  test('without an identity and without allowUnauthenticatedVerifiers: a PermissionDenied timeout', async () => {
    await using agent = await DevAgent.start({ identities: [] })
    const err = await BundleSource.create({ address: agent.address, timeoutMs: 300, backoff }).catch((e) => e)
    expect(err.code).toBe('ERR_SOURCE_TIMEOUT')
    expect(err.details.reason).toBe('permission-denied')
  })

  test('federated bundles added and removed; objects replaced only when their content changes', async () => {
    await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }] })
    await using bundles = await BundleSource.create({ address: agent.address, backoff })
    const x509 = bundles.getX509BundleForTrustDomain(td('example.org'))
    const jwt = bundles.getJwtBundleForTrustDomain(td('example.org'))
    const set = bundles.bundles

    const partner = await agent.addFederatedBundle('partner.org')
    await expect
      .poll(() => bundles.trustDomains().map(String), { timeout: 5000 })
      .toEqual(['example.org', 'partner.org'])
    await expect.poll(() => bundles.getJwtBundleForTrustDomain(td('partner.org')) !== undefined).toBe(true)
    expect(bundles.getX509BundleForTrustDomain(td('partner.org'))!.hasAuthority(partner.certificate)).toBe(
      true,
    )
    expect(bundles.getX509BundleForTrustDomain(td('example.org'))).toBe(x509)
    expect(bundles.getJwtBundleForTrustDomain(td('example.org'))).toBe(jwt)
    expect(bundles.bundles).not.toBe(set)

    await agent.rotateJwtKey()
    await expect
      .poll(() => bundles.getJwtBundleForTrustDomain(td('example.org')) !== jwt, { timeout: 5000 })
      .toBe(true)
    expect(bundles.getX509BundleForTrustDomain(td('example.org'))).toBe(x509)

    agent.removeFederatedBundle('partner.org')
    await expect.poll(() => bundles.trustDomains().map(String), { timeout: 5000 }).toEqual(['example.org'])
    expect(bundles.getJwtBundleForTrustDomain(td('partner.org'))).toBeUndefined()
  })

  test('x509 only; at least one stream is required', async () => {
    await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }] })
    await using bundles = await BundleSource.create({ address: agent.address, jwt: false })
    expect(bundles.getJwtBundleForTrustDomain(td('example.org'))).toBeUndefined()
    expect(bundles.healthy).toBe(true)
    await expect(
      BundleSource.create({ address: agent.address, jwt: false, x509: false }),
    ).rejects.toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
    })
    await bundles.close()
    expect(() => bundles.trustDomains()).toThrow(expect.objectContaining({ code: 'ERR_SOURCE_CLOSED' }))
  })
})
