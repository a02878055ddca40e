// Point 4: every cache svidkit keeps has a documented maximum (packages/core/README.md, "Caches and
// limits", and each module's TSDoc); each test here drives one past it through the public API and
// observes the eviction — a cached result is the very same object, a recomputed one is not — or, for
// caches keyed by objects (per connection, per SPIFFE ID), that entries are freed with their key.
import { X509Certificate } from 'node:crypto'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:tls'
import type { Caller } from '@svidkit/core/caller'
import { createCallerVerifier } from '@svidkit/core/caller'
import { createForwardedCertExtractor } from '@svidkit/core/forwarded-cert'
import { createJwtSvidVerifier } from '@svidkit/core/jwt-svid'
import { StaticSource } from '@svidkit/core/source'
import { matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig, getTlsCaller } from '@svidkit/core/tls'
import { verifyX509Svid } from '@svidkit/core/x509-svid'
import { createXfccExtractor, formatXfcc } from '@svidkit/core/xfcc'
import { TestCA, type TestX509Svid } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'
import { fastifyAdapter } from './harness/adapters/fastify.js'
import { Collected } from './harness/memory.js'
import { createStaticFixtures, HOST, type StaticFixtures } from './harness/static-fixtures.js'

let ca: TestCA
/** Distinct leaf certificates of one CA, issued on demand and kept for reuse. */
const leaves: TestX509Svid[] = []
async function distinctSvids(n: number): Promise<readonly TestX509Svid[]> {
  while (leaves.length < n) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(64, n - leaves.length) }, (_, i) =>
        ca.issueX509Svid({ id: `/svc/${leaves.length + i}` }),
      ),
    )
    leaves.push(...batch)
  }
  return leaves.slice(0, n)
}

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
})

const peer = { peerAddress: '127.0.0.1' }
const xfccOf = (uri: string, extra: Record<string, string[]> = {}) => formatXfcc([{ uri: [uri], ...extra }])

describe('bounded caches', () => {
  test('verified JWT-SVIDs: at most cache.maxEntries (default 1000)', async () => {
    const verifier = createJwtSvidVerifier({ bundles: ca.bundleSet(), audience: 'api' })
    const small = createJwtSvidVerifier({
      bundles: ca.bundleSet(),
      audience: 'api',
      cache: { maxEntries: 10 },
    })
    for (let i = 0; i < 1200; i++) {
      const token = await ca.mintJwtSvid({ subject: `/w/${i}`, audience: 'api' })
      verifier.verify(token)
      small.verify(token)
    }
    expect(verifier.cacheStats()).toMatchObject({ enabled: true, maxEntries: 1000, size: 1000, misses: 1200 })
    expect(small.cacheStats()).toMatchObject({ maxEntries: 10, size: 10 })
  })

  test('XFCC selections (the memo): the last 64 distinct headers, and the last 4 hits', () => {
    const xfcc = createXfccExtractor()
    const header = xfccOf('spiffe://example.org/a')
    const others = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => xfccOf(`spiffe://example.org/other-${from + i}`))
    const first = xfcc.extract({ header, ...peer })!
    for (const h of others(0, 63)) xfcc.extract({ header: h, ...peer })
    expect(xfcc.extract({ header, ...peer })!.element).toBe(first.element) // 63 others: still held
    // Four other hits take the last-hit slots; 64 new headers then evict it from the memo.
    for (const h of others(0, 4)) xfcc.extract({ header: h, ...peer })
    for (const h of others(100, 64)) xfcc.extract({ header: h, ...peer })
    const after = xfcc.extract({ header, ...peer })!
    expect(after.element).not.toBe(first.element) // evicted: parsed again
    expect(after.element).toEqual(first.element)
  })

  test('XFCC URI parses: the last 64 distinct URIs', () => {
    const xfcc = createXfccExtractor()
    const uri = 'spiffe://example.org/a'
    // Distinct headers naming the same URI miss the memo but hit the URI cache: the same SpiffeId.
    let n = 0
    const ask = () => xfcc.extract({ header: xfccOf(uri, { dns: [`h${n++}`] }), ...peer })!.caller
    const id = ask()
    expect(ask()).toBe(id)
    for (let i = 0; i < 63; i++) xfcc.extract({ header: xfccOf(`spiffe://example.org/u-${i}`), ...peer })
    expect(ask()).toBe(id)
    for (let i = 63; i < 127; i++) xfcc.extract({ header: xfccOf(`spiffe://example.org/u-${i}`), ...peer })
    const fresh = ask()
    expect(fresh).not.toBe(id)
    expect(fresh.toString()).toBe(uri)
  })

  test('verified forwarded chains (XFCC Cert, forwarded-cert headers): at most cacheSize (default 256), LRU', async () => {
    const svids = await distinctSvids(257)
    const xfcc = createXfccExtractor({ bundles: ca.bundleSet() })
    const certHeader = (s: TestX509Svid) =>
      formatXfcc([{ uri: [s.id.toString()], cert: [encodeURIComponent(s.certificatesPem)] }])
    // A verification builds a new expiresAt Date; a cache hit hands back the one it keeps.
    const verifiedAt = (s: TestX509Svid) => xfcc.extract({ header: certHeader(s), ...peer })!.expiresAt
    const first = verifiedAt(svids[0]!)
    expect(verifiedAt(svids[0]!)).toBe(first)
    for (const s of svids.slice(1, 256)) verifiedAt(s)
    expect(verifiedAt(svids[0]!)).toBe(first) // 255 others: still held (and now the most recent)
    verifiedAt(svids[256]!) // the 256th other pushes out the least recent, svids[1]
    const s1 = verifiedAt(svids[1]!) // verified again: it pushes out svids[2]
    expect(verifiedAt(svids[0]!)).toBe(first)
    expect(verifiedAt(svids[1]!)).toBe(s1)
    // svids[2..255] and svids[256] again: 255 misses, each pushing out the least recent; the last
    // one pushes out svids[0].
    for (const s of [...svids.slice(2, 256), svids[256]!]) verifiedAt(s)
    expect(verifiedAt(svids[0]!)).not.toBe(first)

    const forwarded = createForwardedCertExtractor({
      format: 'haproxy',
      bundles: ca.bundleSet(),
      cacheSize: 4,
    })
    const viaHeader = (s: TestX509Svid) =>
      forwarded.extract({ header: s.certificatesDer[0]!.toString('base64'), ...peer })!.expiresAt
    const one = viaHeader(svids[0]!)
    expect(viaHeader(svids[0]!)).toBe(one)
    for (const s of svids.slice(1, 4)) viaHeader(s)
    expect(viaHeader(svids[0]!)).toBe(one)
    for (const s of svids.slice(4, 8)) viaHeader(s)
    expect(viaHeader(svids[0]!)).not.toBe(one)
  })

  test('certificate parses: at most 1024 certificates by content (and one per live X509Certificate object)', async () => {
    const svids = await distinctSvids(1030)
    const bundles = ca.bundleSet()
    const der = svids[0]!.certificatesDer[0]!
    // Every verification gets a new object for the same certificate, as a new connection does; a
    // remembered parse hands back the object it was first parsed from.
    const parsedAs = () => verifyX509Svid([new X509Certificate(der)], bundles).chain[0]
    const first = parsedAs()
    expect(parsedAs()).toBe(first)
    for (const s of svids.slice(1, 1000))
      verifyX509Svid([new X509Certificate(s.certificatesDer[0]!)], bundles)
    expect(parsedAs()).toBe(first) // 999 others: still held
    for (const s of svids.slice(1, 1030))
      verifyX509Svid([new X509Certificate(s.certificatesDer[0]!)], bundles)
    expect(parsedAs()).not.toBe(first) // past 1024 others: parsed again
  })

  test('canonical peer certificates of the mTLS server and client configs: the last 512 by content', async () => {
    const svids = await distinctSvids(1030)
    const source = new StaticSource({
      svid: await ca.issueX509Svid({ id: '/orders' }),
      bundles: ca.bundleSet(),
    })
    const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('example.org') })
    let last: X509Certificate | undefined
    const server = mtls.attach(
      createServer(mtls.serverOptions, (req, res) => {
        last = getTlsCaller(req)?.certificate
        res.end('ok')
      }),
    )
    await new Promise<void>((r) => server.listen(0, HOST, r))
    const { port } = server.address() as AddressInfo
    const connectAs = (s: TestX509Svid) =>
      new Promise<X509Certificate | undefined>((resolve, reject) => {
        const socket = connect({
          host: HOST,
          port,
          ca: ca.certificate.toString(),
          cert: s.certificatesPem,
          key: s.privateKeyPem,
          checkServerIdentity: () => undefined,
        })
        socket.on('secureConnect', () =>
          socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'),
        )
        socket.on('error', reject)
        socket.on('close', () => resolve(last))
        socket.resume()
      })
    try {
      const first = await connectAs(svids[0]!)
      expect(first).toBeDefined()
      // Push it out of the parse cache (1024 by content): only the canonical map still knows it.
      for (const s of svids.slice(1, 1030))
        verifyX509Svid([new X509Certificate(s.certificatesDer[0]!)], ca.bundleSet())
      expect(await connectAs(svids[0]!)).toBe(first) // the canonical object, from a new connection
      // The map also holds the client chain's CA certificate: 510 other leaves fill it to 512.
      const connectAll = async (list: readonly TestX509Svid[]) => {
        for (let i = 0; i < list.length; i += 8) await Promise.all(list.slice(i, i + 8).map(connectAs))
      }
      await connectAll(svids.slice(1, 511))
      expect(await connectAs(svids[0]!)).toBe(first) // still held
      await connectAll(svids.slice(511, 1024))
      expect(await connectAs(svids[0]!)).not.toBe(first) // 512 more: evicted
    } finally {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })

  test('captures: one entry per live SPIFFE ID object, freed with it', async () => {
    const verifier = createCallerVerifier({
      bundles: ca.bundleSet(),
      mtls: false,
      xfcc: { trustedPeers: { addresses: ['127.0.0.1'] } },
      identityTemplates: ['/svc/{name}'],
      audit: false,
    })
    const op = { kind: 'http', method: 'GET', path: '/' } as const
    const collected = new Collected()
    const callerOf = async (i: number): Promise<Caller> =>
      (await verifier.verifyCaller({ operation: op, xfcc: xfccOf(`spiffe://example.org/svc/${i}`), ...peer }))
        .caller!
    // Only the captures object is watched; no caller (which holds its SpiffeId) is kept.
    await (async () => {
      const a = await callerOf(0)
      expect((await callerOf(0)).captures).toBe(a.captures) // the same frozen captures for the same ID
      expect(a.captures).toEqual({ name: '0' })
      collected.watch(a.captures, 'captures of /svc/0')
    })()
    // 200 other IDs, each asked twice, push /svc/0 out of the XFCC memo (64, and its last 4 hits) and
    // the URI cache (64): its SpiffeId object and the captures keyed by it must then be freed.
    for (let i = 1; i <= 200; i++) {
      await callerOf(i)
      collected.watch((await callerOf(i)).captures, `captures of /svc/${i}`)
    }
    expect(await collected.settle()).toBeGreaterThanOrEqual(100)
    expect(collected.has('captures of /svc/0')).toBe(true)
  })

  test('per-connection identities (mTLS): one per open connection, freed when it closes', async () => {
    const fx: StaticFixtures = await createStaticFixtures()
    const collected = new Collected()
    let seen = 0
    const service = await fastifyAdapter.start({
      host: HOST,
      tls: fx.tls,
      verifier: fx.verifier(),
      respond: (_op, caller) => {
        if (caller) collected.watch(caller, `caller ${seen++}`)
        return { ok: true }
      },
    })
    try {
      // 100 connections, one request each (a fresh TLS connection per call, closed after it).
      for (let i = 0; i < 100; i++) {
        const r = await fastifyAdapter.call(service, {
          operation: 'whoami',
          certificate: fx.webCertificate,
          trust: fx.trust,
        })
        expect(r.kind).toBe('ok')
      }
      await new Promise((r) => setTimeout(r, 200)) // let the server see every close
      expect(seen).toBe(100)
      // The caller built for each connection (and the verified identity behind it) goes with it.
      expect(await collected.settle()).toBeGreaterThanOrEqual(99)
    } finally {
      await service.close()
    }
  })
})
