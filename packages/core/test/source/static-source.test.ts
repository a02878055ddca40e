import { BundleSet } from '@svidkit/core/bundle'
import { StaticSource } from '@svidkit/core/source'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { codeOf, TestCA } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'

let ca: TestCA
let other: TestCA
const td = TrustDomain.parse('static.test')

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: td })
  other = await TestCA.create({ trustDomain: 'other.test' })
})

describe('StaticSource', () => {
  test('serves its SVID and bundles, per trust domain', async () => {
    const svid = await ca.issueX509Svid({ id: '/web' })
    await using source = new StaticSource({ svid, bundles: [ca.spiffeBundle(), other.x509Bundle()] })
    expect(source.getX509Svid()).toBe(svid)
    expect(source.getX509BundleForTrustDomain(td)?.authorities[0]?.fingerprint256).toBe(
      ca.certificate.fingerprint256,
    )
    expect(source.getJwtBundleForTrustDomain(td)?.findAuthority(ca.jwtKeyId)).toBeDefined()
    // An X.509-only trust domain stays X.509-only: no JWT bundle is invented for it.
    expect(source.getJwtBundleForTrustDomain(other.trustDomain)).toBeUndefined()
    expect(source.getX509BundleForTrustDomain(TrustDomain.parse('unknown.test'))).toBeUndefined()
    expect(source.getSpiffeBundleForTrustDomain('static.test')?.equals(ca.spiffeBundle())).toBe(true)
    expect(source.healthy).toBe(true)
  })

  test('copies the BundleSet it is given', async () => {
    const set = new BundleSet([ca.spiffeBundle()])
    await using source = new StaticSource({ bundles: set })
    set.remove(td)
    expect(source.getX509BundleForTrustDomain(td)).toBeDefined()
    expect(source.bundles).not.toBe(set)
  })

  test('update() swaps atomically, emits update and installs a new BundleSet', async () => {
    const a = await ca.issueX509Svid({ id: '/web' })
    const b = await ca.issueX509Svid({ id: '/web' })
    await using source = new StaticSource({ svid: a, bundles: ca.bundleSet() })
    const before = source.bundles
    let updates = 0
    source.on('update', () => updates++)
    const waited = source.waitUntilUpdated(AbortSignal.timeout(2000))
    source.update({ svid: b })
    await waited
    expect(updates).toBe(1)
    expect(source.getX509Svid()).toBe(b)
    expect(source.bundles).not.toBe(before)
    expect(source.getX509BundleForTrustDomain(td)).toBe(before.getX509BundleForTrustDomain(td))
    source.update({ bundles: other.bundleSet() })
    expect(source.getX509BundleForTrustDomain(td)).toBeUndefined()
    expect(source.getX509Svid()).toBe(b) // absent keys keep their value
    source.update({ svid: null })
    expect(await codeOf(() => source.getX509Svid())).toBe('ERR_SOURCE_NO_SVID')
    expect(updates).toBe(3)
  })

  test('an invalid update throws and leaves the source unchanged', async () => {
    const svid = await ca.issueX509Svid({ id: '/web' })
    await using source = new StaticSource({ svid, bundles: ca.bundleSet() })
    let updates = 0
    source.on('update', () => updates++)
    expect(await codeOf(() => source.update({ svid, jwtSvids: ['not.a-token'] }))).toMatch(/^ERR_JWT_SVID_/)
    expect(await codeOf(() => source.update({ bundles: 42 as never }))).toBe('ERR_OPTIONS_INVALID')
    expect(updates).toBe(0)
    expect(source.getX509Svid()).toBe(svid)
  })

  test('never serves an expired SVID', async () => {
    const expired = await ca.issueX509Svid({
      id: '/web',
      notBefore: new Date(Date.now() - 7200_000),
      notAfter: new Date(Date.now() - 1000),
    })
    await using source = new StaticSource({ svid: expired })
    expect(await codeOf(() => source.getX509Svid())).toBe('ERR_SOURCE_SVID_EXPIRED')
    expect(source.healthy).toBe(false)
    await using empty = new StaticSource()
    expect(await codeOf(() => empty.getX509Svid())).toBe('ERR_SOURCE_NO_SVID')
  })

  test('JWT-SVIDs from a minting function', async () => {
    await using source = new StaticSource({
      mintJwtSvid: (p) =>
        ca.mintJwtSvid({ subject: '/web', audience: [p.audience, ...(p.extraAudiences ?? [])] }),
    })
    const svid = await source.fetchJwtSvid({ audience: 'orders', extraAudiences: ['billing'] })
    expect(svid.id.toString()).toBe('spiffe://static.test/web')
    expect(svid.audience).toEqual(['orders', 'billing'])
    expect(svid.token.split('.')).toHaveLength(3)
    expect(await codeOf(() => source.fetchJwtSvid({ audience: '' }))).toBe('ERR_OPTIONS_INVALID')
    await using expiring = new StaticSource({
      mintJwtSvid: () => ca.mintJwtSvid({ subject: '/web', audience: 'x', ttlSeconds: -10 }),
    })
    expect(await codeOf(() => expiring.fetchJwtSvid({ audience: 'x' }))).toBe('ERR_SOURCE_SVID_EXPIRED')
  })

  test('JWT-SVIDs from a fixed list: first fresh token naming every audience (and the subject)', async () => {
    const orders = await ca.mintJwtSvid({ subject: '/web', audience: ['orders', 'billing'] })
    const other1 = await ca.mintJwtSvid({ subject: '/api', audience: 'orders' })
    const stale = await ca.mintJwtSvid({ subject: '/web', audience: 'old', ttlSeconds: -5 })
    await using source = new StaticSource({ jwtSvids: [orders, other1, stale] })
    expect((await source.fetchJwtSvid({ audience: 'orders' })).token).toBe(orders)
    expect(
      (await source.fetchJwtSvid({ audience: 'orders', subject: 'spiffe://static.test/api' })).token,
    ).toBe(other1)
    expect((await source.fetchJwtSvid({ audience: 'billing', extraAudiences: ['orders'] })).token).toBe(
      orders,
    )
    expect(await codeOf(() => source.fetchJwtSvid({ audience: 'old' }))).toBe('ERR_SOURCE_SVID_EXPIRED')
    expect(await codeOf(() => source.fetchJwtSvid({ audience: 'nobody' }))).toBe('ERR_SOURCE_NO_SVID')
    await using none = new StaticSource()
    expect(await codeOf(() => none.fetchJwtSvid({ audience: 'orders' }))).toBe('ERR_SOURCE_NO_SVID')
  })

  test('close() is idempotent, rejects waiters, and every getter then throws ERR_SOURCE_CLOSED', async () => {
    const source = new StaticSource({ svid: await ca.issueX509Svid({ id: '/web' }), bundles: ca.bundleSet() })
    const waiting = source.waitUntilUpdated()
    await source.close()
    await source.close()
    expect(await codeOf(() => waiting)).toBe('ERR_SOURCE_CLOSED')
    expect(await codeOf(() => source.waitUntilUpdated())).toBe('ERR_SOURCE_CLOSED')
    expect(await codeOf(() => source.getX509Svid())).toBe('ERR_SOURCE_CLOSED')
    expect(await codeOf(() => source.getX509BundleForTrustDomain(td))).toBe('ERR_SOURCE_CLOSED')
    expect(await codeOf(() => source.getJwtBundleForTrustDomain(td))).toBe('ERR_SOURCE_CLOSED')
    expect(await codeOf(() => source.fetchJwtSvid({ audience: 'a' }))).toBe('ERR_SOURCE_CLOSED')
    expect(await codeOf(() => source.update({}))).toBe('ERR_SOURCE_CLOSED')
    expect(source.healthy).toBe(false)
  })

  test('waitUntilUpdated honours its signal', async () => {
    await using source = new StaticSource()
    const ac = new AbortController()
    const waiting = source.waitUntilUpdated(ac.signal)
    ac.abort(new Error('stop'))
    await expect(waiting).rejects.toThrow('stop')
  })

  test('a throwing listener does not break the update', async () => {
    await using source = new StaticSource()
    const seen: number[] = []
    const boom = (): void => {
      throw new Error('listener bug')
    }
    const errors: unknown[] = []
    const onUncaught = (err: unknown): void => {
      errors.push(err)
    }
    process.on('uncaughtException', onUncaught)
    try {
      source.on('update', boom)
      source.on('update', () => seen.push(1))
      source.update({ bundles: ca.bundleSet() })
      await new Promise((r) => setImmediate(r))
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    expect(seen).toEqual([1])
    expect(source.getX509BundleForTrustDomain(td)).toBeDefined()
  })
})
