import { BundleSet, JwtBundle } from '@svidkit/core/bundle'
import { createJwtSvidVerifier } from '@svidkit/core/jwt-svid'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { codeOf, generateTestKeyPair, TestCA } from '@svidkit/testing'
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { nowSeconds, signJws } from './helpers.js'

let ca: TestCA
let other: TestCA

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  other = await TestCA.create({ trustDomain: 'other.test' })
})

afterEach(() => {
  vi.useRealTimers()
})

const mint = (options: { audience?: string | string[]; ttlSeconds?: number; subject?: string } = {}) =>
  ca.mintJwtSvid({
    subject: options.subject ?? '/ns/prod/sa/web',
    audience: options.audience ?? 'orders',
    ttlSeconds: options.ttlSeconds,
  })

describe('createJwtSvidVerifier: the verified-token cache', () => {
  test('a hit returns the same frozen object; stats count hits and misses', async () => {
    const verifier = createJwtSvidVerifier({ bundles: ca.bundleSet(), audience: 'orders' })
    const token = await mint()
    const first = verifier.verify(token)
    const second = verifier.verify(token)
    expect(second).toBe(first)
    expect(Object.isFrozen(second)).toBe(true)
    expect(verifier.cacheStats()).toEqual({
      enabled: true,
      size: 1,
      maxEntries: 1000,
      hits: 1,
      misses: 1,
      evictions: 0,
    })
  })

  test('the cache is on by default and can be turned off', async () => {
    const token = await mint()
    const off = createJwtSvidVerifier({ bundles: ca.bundleSet(), audience: 'orders', cache: false })
    expect(off.verify(token)).not.toBe(off.verify(token))
    expect(off.cacheStats()).toMatchObject({ enabled: false, size: 0, hits: 0 })
    expect(off.flushCache()).toBe(0)
  })

  test('an entry expires at exp + skew, measured with fake time', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'))
    const token = await ca.mintJwtSvid({ subject: '/w', audience: 'orders', ttlSeconds: 300 })
    const verifier = createJwtSvidVerifier({
      bundles: ca.bundleSet(),
      audience: 'orders',
      clockSkewSeconds: 10,
    })
    const svid = verifier.verify(token)
    const expMs = svid.expiresAt.getTime()
    vi.setSystemTime(expMs + 10_000 - 1)
    expect(verifier.verify(token)).toBe(svid)
    vi.setSystemTime(expMs + 10_000)
    expect(codeOf(() => verifier.verify(token))).toBe('ERR_JWT_SVID_EXPIRED')
    expect(verifier.cacheStats()).toMatchObject({ size: 0, hits: 1, misses: 2 })
  })

  test('a hit re-checks exp and nbf against the time of the call (`at`)', async () => {
    const now = nowSeconds()
    const token = await ca.mintJwtSvid({
      subject: '/w',
      audience: 'orders',
      issuedAt: new Date(now * 1000),
      notBefore: new Date(now * 1000),
      ttlSeconds: 600,
    })
    const verifier = createJwtSvidVerifier({
      bundles: ca.bundleSet(),
      audience: 'orders',
      clockSkewSeconds: 0,
    })
    const svid = verifier.verify(token)
    expect(verifier.verify(token, { at: new Date((now + 599) * 1000) })).toBe(svid)
    // Earlier than nbf: refused, but the entry stays for the present.
    expect(codeOf(() => verifier.verify(token, { at: new Date((now - 1) * 1000) }))).toBe(
      'ERR_JWT_SVID_NOT_YET_VALID',
    )
    expect(verifier.cacheStats().size).toBe(1)
    expect(verifier.verify(token)).toBe(svid)
    // Asked about a time after exp: refused; the entry stays, as it is still valid now.
    expect(codeOf(() => verifier.verify(token, { at: new Date((now + 600) * 1000) }))).toBe(
      'ERR_JWT_SVID_EXPIRED',
    )
    expect(verifier.cacheStats().size).toBe(1)
    expect(verifier.verify(token)).toBe(svid)
  })

  test('a new bundle object for the trust domain is a miss; a rotated-out key is not served from the cache', async () => {
    const rotating = await TestCA.create({ trustDomain: 'rotating.test' })
    const set = new BundleSet([rotating.jwtBundle()])
    const verifier = createJwtSvidVerifier({ bundles: set, audience: 'orders' })
    const token = await rotating.mintJwtSvid({ subject: '/w', audience: 'orders' })
    const first = verifier.verify(token)
    expect(verifier.verify(token)).toBe(first)

    // Same keys, new object: verified again (a miss), then cached again.
    set.add(rotating.jwtBundle())
    const second = verifier.verify(token)
    expect(second).not.toBe(first)
    expect(second.id.toString()).toBe(first.id.toString())
    expect(verifier.verify(token)).toBe(second)
    expect(verifier.cacheStats()).toMatchObject({ hits: 2, misses: 2, size: 1 })

    // The signing key is rotated out of the bundle: the cached token must now fail.
    await rotating.rotateJwtKey({ dropOld: true })
    set.add(rotating.jwtBundle())
    expect(codeOf(() => verifier.verify(token))).toBe('ERR_JWT_SVID_KEY_NOT_FOUND')
    expect(verifier.cacheStats().size).toBe(0)

    // The bundle disappears altogether.
    const fresh = await rotating.mintJwtSvid({ subject: '/w', audience: 'orders' })
    verifier.verify(fresh)
    set.remove('rotating.test')
    expect(codeOf(() => verifier.verify(fresh))).toBe('ERR_JWT_SVID_NO_BUNDLE')
  })

  test('a rotation that keeps the old key still verifies the old token', async () => {
    const rotating = await TestCA.create({ trustDomain: 'keep.test' })
    const set = new BundleSet([rotating.jwtBundle()])
    const verifier = createJwtSvidVerifier({ bundles: set, audience: 'orders' })
    const token = await rotating.mintJwtSvid({ subject: '/w', audience: 'orders' })
    verifier.verify(token)
    await rotating.rotateJwtKey()
    set.add(rotating.jwtBundle())
    expect(codeOf(() => verifier.verify(token))).toBe('OK')
  })

  test('flushCache(td) drops only that trust domain; flushCache() drops all', async () => {
    const set = new BundleSet([ca.jwtBundle(), other.jwtBundle()])
    const verifier = createJwtSvidVerifier({ bundles: set, audience: 'orders' })
    const a1 = await mint({ subject: '/a' })
    const a2 = await mint({ subject: '/b' })
    const b1 = await other.mintJwtSvid({ subject: '/c', audience: 'orders' })
    for (const t of [a1, a2, b1]) verifier.verify(t)
    expect(verifier.cacheStats().size).toBe(3)
    expect(verifier.flushCache('example.org')).toBe(2)
    expect(verifier.cacheStats().size).toBe(1)
    expect(verifier.flushCache(TrustDomain.parse('nowhere.test'))).toBe(0)
    expect(verifier.flushCache(TrustDomain.parse('other.test'))).toBe(1)
    verifier.verify(a1)
    expect(verifier.flushCache()).toBe(1)
    expect(codeOf(() => verifier.flushCache('Not A Trust Domain'))).toBe('ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS')
  })

  test('the expected audience is part of the key', async () => {
    const verifier = createJwtSvidVerifier({ bundles: ca.bundleSet(), audience: 'orders' })
    const token = await mint({ audience: ['orders', 'billing'] })
    const forOrders = verifier.verify(token)
    expect(codeOf(() => verifier.verify(token, { audience: 'shipping' }))).toBe(
      'ERR_JWT_SVID_AUDIENCE_MISMATCH',
    )
    const forBilling = verifier.verify(token, { audience: 'billing' })
    expect(forBilling).not.toBe(forOrders)
    expect(verifier.verify(token, { audience: ['billing'] })).toBe(forBilling)
    expect(verifier.verify(token)).toBe(forOrders)
    expect(verifier.cacheStats().size).toBe(2)
    // A token cached for one audience is never served for another.
    const onlyOrders = await mint({ audience: 'orders' })
    verifier.verify(onlyOrders)
    expect(codeOf(() => verifier.verify(onlyOrders, { audience: 'billing' }))).toBe(
      'ERR_JWT_SVID_AUDIENCE_MISMATCH',
    )
    expect(codeOf(() => verifier.verify(onlyOrders, { audience: '' }))).toBe('ERR_OPTIONS_INVALID')
  })

  test('the cache is bounded; recently used entries survive eviction', async () => {
    const verifier = createJwtSvidVerifier({
      bundles: ca.bundleSet(),
      audience: 'orders',
      cache: { maxEntries: 3 },
    })
    const tokens = await Promise.all(Array.from({ length: 6 }, (_, i) => mint({ subject: `/w${i}` })))
    const hot = verifier.verify(tokens[0]!)
    for (const t of tokens.slice(1)) {
      verifier.verify(t)
      expect(verifier.verify(tokens[0]!)).toBe(hot)
    }
    const stats = verifier.cacheStats()
    expect(stats.size).toBe(3)
    expect(stats.maxEntries).toBe(3)
    expect(stats.evictions).toBe(3)
    expect(stats.hits).toBe(5)
    // The oldest cold entries were pushed out: verifying one again is a miss.
    const before = verifier.cacheStats().misses
    verifier.verify(tokens[1]!)
    expect(verifier.cacheStats().misses).toBe(before + 1)
  })

  test('failures are not cached: a token that failed verifies once its bundle arrives', async () => {
    const late = await TestCA.create({ trustDomain: 'late.test' })
    const set = new BundleSet([ca.jwtBundle()])
    const verifier = createJwtSvidVerifier({ bundles: set, audience: 'orders' })
    const token = await late.mintJwtSvid({ subject: '/w', audience: 'orders' })
    expect(codeOf(() => verifier.verify(token))).toBe('ERR_JWT_SVID_NO_BUNDLE')
    expect(codeOf(() => verifier.verify(token))).toBe('ERR_JWT_SVID_NO_BUNDLE')
    expect(verifier.cacheStats()).toMatchObject({ size: 0, hits: 0, misses: 2 })
    set.add(late.jwtBundle())
    expect(codeOf(() => verifier.verify(token))).toBe('OK')
  })

  test('a forged token is refused every time and never enters the cache', async () => {
    const verifier = createJwtSvidVerifier({ bundles: ca.bundleSet(), audience: 'orders' })
    const stranger = await generateTestKeyPair('ec-p256')
    const forged = await ca.mintJwtSvid({ subject: '/w', audience: 'orders', signWith: stranger.privateKey })
    for (let i = 0; i < 3; i++)
      expect(codeOf(() => verifier.verify(forged))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
    expect(verifier.cacheStats()).toMatchObject({ size: 0, hits: 0 })
    // The genuine token with the same payload is cached; its forged twin still fails.
    const genuine = await mint()
    verifier.verify(genuine)
    const [h, p] = genuine.split('.')
    const twin = `${h}.${p}.${forged.split('.')[2]}`
    expect(codeOf(() => verifier.verify(twin))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
  })

  test('entries share a slot only by signature tail: a hit needs the exact token and audience', async () => {
    const verifier = createJwtSvidVerifier({ bundles: ca.bundleSet(), audience: 'orders' })
    const genuine = await mint({ subject: '/ns/prod/sa/web' })
    const first = verifier.verify(genuine)
    // Another payload behind the genuine signature: same map key, different token. Never the
    // cached result; it fails, and the genuine entry stays.
    const [h, , sig] = genuine.split('.')
    const other = await mint({ subject: '/ns/prod/sa/admin' })
    const tailTwin = `${h}.${other.split('.')[1]}.${sig}`
    expect(tailTwin.slice(-32)).toBe(genuine.slice(-32))
    expect(codeOf(() => verifier.verify(tailTwin))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
    expect(verifier.verify(genuine)).toBe(first)
    // The same token under another audience is keyed apart, and checked against that audience.
    expect(codeOf(() => verifier.verify(genuine, { audience: 'billing' }))).toBe(
      'ERR_JWT_SVID_AUDIENCE_MISMATCH',
    )
    const both = await mint({ audience: ['orders', 'billing'] })
    const a = verifier.verify(both)
    const b = verifier.verify(both, { audience: 'billing' })
    expect(b).not.toBe(a)
    expect(verifier.verify(both, { audience: 'billing' })).toBe(b)
    expect(verifier.verify(both)).toBe(a)
    expect(verifier.cacheStats()).toMatchObject({ size: 3, hits: 3 })
  })

  test('a token whose sub is in td A signed with td B’s key and kid fails even with both bundles', async () => {
    const set = new BundleSet([ca.jwtBundle(), other.jwtBundle()])
    const verifier = createJwtSvidVerifier({ bundles: set, audience: 'orders' })
    const cross = await other.mintJwtSvid({ subject: 'spiffe://example.org/w', audience: 'orders' })
    expect(codeOf(() => verifier.verify(cross))).toBe('ERR_JWT_SVID_KEY_NOT_FOUND')
    const keyA = await generateTestKeyPair('ec-p256')
    const keyB = await generateTestKeyPair('ec-p256')
    const same = new BundleSet([
      JwtBundle.fromKeys('example.org', { k: keyA.publicKey }),
      JwtBundle.fromKeys('other.test', { k: keyB.publicKey }),
    ])
    const v2 = createJwtSvidVerifier({ bundles: same, audience: 'orders' })
    const token = signJws(
      { alg: 'ES256', kid: 'k' },
      { sub: 'spiffe://example.org/w', aud: 'orders', exp: nowSeconds() + 60 },
      keyB.privateKey,
    )
    expect(codeOf(() => v2.verify(token))).toBe('ERR_JWT_SVID_SIGNATURE_INVALID')
  })

  test('options are validated when the verifier is created', () => {
    const bundles = ca.bundleSet()
    for (const bad of [
      undefined,
      {},
      { bundles, audience: '' },
      { bundles, audience: [] },
      { audience: 'orders' },
      { bundles: {}, audience: 'orders' },
      { bundles, audience: 'orders', cache: { maxEntries: 0 } },
      { bundles, audience: 'orders', cache: { maxEntries: 1.5 } },
      { bundles, audience: 'orders', cache: 'yes' },
      { bundles, audience: 'orders', cache: null },
      { bundles, audience: 'orders', clockSkewSeconds: -5 },
      { bundles, audience: 'orders', maxTokenBytes: -1 },
    ]) {
      expect([bad, codeOf(() => createJwtSvidVerifier(bad as never))]).toEqual([bad, 'ERR_OPTIONS_INVALID'])
    }
    const verifier = createJwtSvidVerifier({ bundles, audience: 'orders' })
    expect(codeOf(() => verifier.verify('x', { at: new Date(Number.NaN) }))).toBe('ERR_OPTIONS_INVALID')
    expect(codeOf(() => verifier.verify('x', null as never))).toBe('ERR_OPTIONS_INVALID')
    expect(Object.isFrozen(verifier)).toBe(true)
  })

  test('non-string and oversized tokens bypass the cache and fail as in verifyJwtSvid', () => {
    const verifier = createJwtSvidVerifier({
      bundles: ca.bundleSet(),
      audience: 'orders',
      maxTokenBytes: 100,
    })
    expect(codeOf(() => verifier.verify(42 as never))).toBe('ERR_JWT_SVID_MALFORMED')
    expect(codeOf(() => verifier.verify('a'.repeat(101)))).toBe('ERR_JWT_SVID_TOO_LARGE')
    expect(verifier.cacheStats()).toMatchObject({ size: 0, misses: 0 })
  })
})
