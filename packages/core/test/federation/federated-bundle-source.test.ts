import type { IncomingMessage, ServerResponse } from 'node:http'
import { SpiffeBundle } from '@svidkit/core/bundle'
import type { SvidkitError } from '@svidkit/core/errors'
import { FederatedBundleSource, type FederatedBundleSourceOptions } from '@svidkit/core/federation'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { codeOf, TestCA, type TestX509Svid } from '@svidkit/testing'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { errorOf, startServer, type TestServer, until } from './helpers.js'

let a: TestCA
let aNext: TestCA // a's next CA, after a CA rotation: same trust domain, new keys
let b: TestCA
let aServer: TestX509Svid
let bServer: TestX509Svid
const A = TrustDomain.parse('a.test')
const B = TrustDomain.parse('b.test')
const servers: TestServer[] = []
const sources: FederatedBundleSource[] = []

beforeAll(async () => {
  a = await TestCA.create({ trustDomain: A })
  aNext = await TestCA.create({ trustDomain: A })
  b = await TestCA.create({ trustDomain: B })
  aServer = await a.issueX509Svid({ id: '/bundle-endpoint' })
  bServer = await b.issueX509Svid({ id: '/bundle-endpoint' })
})

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** A bundle endpoint whose answer the test controls. */
async function endpoint(svid: TestX509Svid, initial: SpiffeBundle) {
  const state = { bundle: initial, status: 200 }
  const s = await startServer({ svid }, (_req: IncomingMessage, res: ServerResponse) => {
    if (state.status !== 200) {
      res.writeHead(state.status)
      res.end('down')
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(state.bundle.toJson())
  })
  servers.push(s)
  return Object.assign(state, { server: s })
}

async function create(options: FederatedBundleSourceOptions): Promise<FederatedBundleSource> {
  const source = await FederatedBundleSource.create(options)
  sources.push(source)
  return source
}

const fast = { minRefreshMs: 20, maxRefreshMs: 60, defaultRefreshMs: 60 }

function bEndpoint(url: string) {
  return {
    trustDomain: B,
    url,
    profile: 'https_spiffe' as const,
    endpointSpiffeId: 'spiffe://b.test/bundle-endpoint',
    initialBundle: b.x509Bundle(),
    timeoutMs: 2000,
  }
}

describe('FederatedBundleSource', () => {
  test('fetches every trust domain and never merges them', async () => {
    const ea = await endpoint(aServer, a.spiffeBundle())
    const eb = await endpoint(bServer, b.spiffeBundle())
    const source = await create({
      endpoints: [
        {
          trustDomain: A,
          url: ea.server.url,
          profile: 'https_spiffe',
          endpointSpiffeId: 'spiffe://a.test/bundle-endpoint',
          initialBundle: a.x509Bundle(),
        },
        bEndpoint(eb.server.url),
      ],
    })
    expect(source.healthy).toBe(true)
    expect(source.getX509BundleForTrustDomain(A)?.authorities.map((c) => c.fingerprint256)).toEqual([
      a.certificate.fingerprint256,
    ])
    expect(source.getX509BundleForTrustDomain(B)?.authorities.map((c) => c.fingerprint256)).toEqual([
      b.certificate.fingerprint256,
    ])
    expect(source.getJwtBundleForTrustDomain(B)?.findAuthority(b.jwtKeyId)).toBeDefined()
    expect(source.getX509BundleForTrustDomain(TrustDomain.parse('c.test'))).toBeUndefined()
    expect(source.status().map((s) => [s.trustDomain.name, s.lastError, s.bundle !== undefined])).toEqual([
      ['a.test', undefined, true],
      ['b.test', undefined, true],
    ])
  })

  test('polls at the refresh hint of the bundle, and at the default without one', async () => {
    const hinted = await endpoint(aServer, a.spiffeBundle({ refreshHintSeconds: 1 }))
    const plain = await endpoint(bServer, b.spiffeBundle())
    const started = Date.now()
    await create({
      minRefreshMs: 10,
      defaultRefreshMs: 60_000,
      endpoints: [
        {
          trustDomain: A,
          url: hinted.server.url,
          profile: 'https_spiffe',
          endpointSpiffeId: 'spiffe://a.test/bundle-endpoint',
          initialBundle: a.x509Bundle(),
        },
        bEndpoint(plain.server.url),
      ],
    })
    await until(() => hinted.server.requests.length >= 2, 3000)
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(900)
    expect(elapsed).toBeLessThan(2500)
    expect(plain.server.requests).toHaveLength(1)
  })

  test('the refresh hint is clamped to [minRefreshMs, maxRefreshMs]', async () => {
    const e = await endpoint(bServer, b.spiffeBundle({ refreshHintSeconds: 3600 }))
    const source = await create({ ...fast, endpoints: [bEndpoint(e.server.url)] })
    await until(() => e.server.requests.length >= 3, 3000)
    const next = source.status()[0]!.nextRefreshAt!.getTime() - Date.now()
    expect(next).toBeLessThanOrEqual(60)
  })

  test('update is emitted only when the bundle changed, with a new BundleSet each time', async () => {
    const e = await endpoint(bServer, b.spiffeBundle())
    const source = await create({ ...fast, endpoints: [bEndpoint(e.server.url)] })
    const first = source.bundles
    let updates = 0
    source.on('update', () => updates++)
    await until(() => e.server.requests.length >= 4)
    expect(updates).toBe(0)
    expect(source.bundles).toBe(first)
    await b.rotateJwtKey()
    e.bundle = b.spiffeBundle()
    await source.waitUntilUpdated(AbortSignal.timeout(3000))
    expect(updates).toBe(1)
    expect(source.bundles).not.toBe(first)
    expect(source.getJwtBundleForTrustDomain(B)?.findAuthority(b.jwtKeyId)).toBeDefined()
    const count = e.server.requests.length
    await until(() => e.server.requests.length >= count + 3)
    expect(updates).toBe(1)
  })

  test('spiffe_sequence decides: an older bundle is ignored, a newer one wins', async () => {
    const v5 = SpiffeBundle.from({ x509: b.x509Bundle(), sequenceNumber: 5n })
    const e = await endpoint(bServer, v5)
    const source = await create({ ...fast, endpoints: [bEndpoint(e.server.url)] })
    expect(source.getSpiffeBundleForTrustDomain(B)?.sequenceNumber).toBe(5n)
    let updates = 0
    source.on('update', () => updates++)
    // A stale replica serves sequence 4 with other content: ignored.
    e.bundle = SpiffeBundle.from({ x509: b.x509Bundle(), jwt: b.jwtBundle(), sequenceNumber: 4n })
    const seen = e.server.requests.length
    await until(() => e.server.requests.length >= seen + 3)
    expect(updates).toBe(0)
    expect(source.getSpiffeBundleForTrustDomain(B)?.sequenceNumber).toBe(5n)
    expect(source.getJwtBundleForTrustDomain(B)?.isEmpty).toBe(true)
    // Sequence 6: accepted.
    e.bundle = SpiffeBundle.from({ x509: b.x509Bundle(), jwt: b.jwtBundle(), sequenceNumber: 6n })
    await source.waitUntilUpdated(AbortSignal.timeout(3000))
    expect(source.getSpiffeBundleForTrustDomain(B)?.sequenceNumber).toBe(6n)
    expect(source.getJwtBundleForTrustDomain(B)?.isEmpty).toBe(false)
  })

  test('without sequence numbers the latest fetch wins', async () => {
    const e = await endpoint(bServer, SpiffeBundle.from({ x509: b.x509Bundle(), sequenceNumber: 9n }))
    const source = await create({ ...fast, endpoints: [bEndpoint(e.server.url)] })
    e.bundle = SpiffeBundle.from({ x509: b.x509Bundle(), jwt: b.jwtBundle() })
    await source.waitUntilUpdated(AbortSignal.timeout(3000))
    expect(source.getSpiffeBundleForTrustDomain(B)?.sequenceNumber).toBeUndefined()
  })

  test('an endpoint that goes down keeps its last bundle, reports errors, and recovers', async () => {
    const e = await endpoint(bServer, b.spiffeBundle())
    const source = await create({ ...fast, endpoints: [bEndpoint(e.server.url)] })
    const errors: SvidkitError[] = []
    source.on('error', (err) => errors.push(err as SvidkitError))
    const kept = source.getSpiffeBundleForTrustDomain(B)
    e.status = 503
    await until(() => errors.length >= 2)
    expect(errors[0]!.code).toBe('ERR_FEDERATION_FETCH_FAILED')
    expect(errors[0]!.message).toContain('HTTP 503')
    expect(source.healthy).toBe(false)
    expect(source.getSpiffeBundleForTrustDomain(B)).toBe(kept)
    expect(source.status()[0]!.lastError).toBeDefined()
    // Retries happen at the interval, not in a tight loop.
    const calls = e.server.requests.length
    await new Promise((r) => setTimeout(r, 150))
    expect(e.server.requests.length - calls).toBeLessThanOrEqual(8)
    e.status = 200
    await until(() => source.healthy)
    expect(source.status()[0]!.lastError).toBeUndefined()
    expect(source.getSpiffeBundleForTrustDomain(B)).toBe(kept) // same content: no update
  })

  test('a self-serving endpoint uses the configured bundle first, then the latest fetched one', async () => {
    // The fetched bundle announces the next CA; then the endpoint switches to an SVID from it.
    const both = new SpiffeBundle(A, { x509Authorities: [a.certificate, aNext.certificate] })
    const e = await endpoint(aServer, both)
    const source = await create({
      ...fast,
      endpoints: [
        {
          trustDomain: A,
          url: e.server.url,
          profile: 'https_spiffe',
          endpointSpiffeId: 'spiffe://a.test/bundle-endpoint',
          initialBundle: a.x509Bundle(), // only the old CA
        },
      ],
    })
    expect(source.getX509BundleForTrustDomain(A)?.authorities).toHaveLength(2)
    await e.server.close()
    const rotated = await endpoint(await aNext.issueX509Svid({ id: '/bundle-endpoint' }), both)
    // The configured bundle alone (old CA only) refuses the rotated server; see the next test for a
    // running source, which verifies it with the latest fetched bundle.
    const naive = await create({
      ...fast,
      endpoints: [
        {
          trustDomain: A,
          url: rotated.server.url,
          profile: 'https_spiffe',
          endpointSpiffeId: 'spiffe://a.test/bundle-endpoint',
          initialBundle: a.x509Bundle(),
        },
      ],
    })
    expect(naive.status()[0]!.lastError?.message).toContain('not a valid X509-SVID')
  })

  test('a self-serving endpoint follows a CA rotation across polls', async () => {
    const both = new SpiffeBundle(A, { x509Authorities: [a.certificate, aNext.certificate] })
    const oldSvid = aServer
    const newSvid = await aNext.issueX509Svid({ id: '/bundle-endpoint' })
    let current = oldSvid
    const tls = await startServer({ svid: oldSvid }, (_req, res) => {
      res.writeHead(200)
      res.end(both.toJson())
    })
    servers.push(tls)
    const source = await create({
      ...fast,
      endpoints: [
        {
          trustDomain: A,
          url: tls.url,
          profile: 'https_spiffe',
          endpointSpiffeId: 'spiffe://a.test/bundle-endpoint',
          initialBundle: a.x509Bundle(),
        },
      ],
    })
    const errors: Error[] = []
    source.on('error', (err) => errors.push(err))
    current = newSvid
    tls.server.setSecureContext({ key: current.privateKeyPem, cert: current.certificatesPem })
    const seen = tls.requests.length
    await until(() => tls.requests.length >= seen + 2)
    expect(errors).toEqual([])
    expect(source.healthy).toBe(true)
  })

  test('an endpoint in another trust domain is verified with that trust domain’s federated bundle', async () => {
    // b.test's bundle is served by a server of a.test; a.test itself is federated here too.
    const ea = await endpoint(aServer, a.spiffeBundle())
    const eb = await endpoint(aServer, b.spiffeBundle())
    const source = await create({
      ...fast,
      endpoints: [
        {
          trustDomain: A,
          url: ea.server.url,
          profile: 'https_spiffe',
          endpointSpiffeId: 'spiffe://a.test/bundle-endpoint',
          initialBundle: a.x509Bundle(),
        },
        {
          trustDomain: B,
          url: eb.server.url,
          profile: 'https_spiffe',
          endpointSpiffeId: 'spiffe://a.test/bundle-endpoint',
        },
      ],
    })
    await until(() => source.healthy)
    expect(source.getX509BundleForTrustDomain(B)?.authorities[0]?.fingerprint256).toBe(
      b.certificate.fingerprint256,
    )
  })

  test('requireInitialFetch rejects when an endpoint is down, leaving nothing running', async () => {
    const e = await endpoint(bServer, b.spiffeBundle())
    e.status = 500
    const err = await errorOf(() =>
      FederatedBundleSource.create({
        ...fast,
        requireInitialFetch: true,
        endpoints: [bEndpoint(e.server.url)],
      }),
    )
    expect(err.code).toBe('ERR_FEDERATION_FETCH_FAILED')
    const count = e.server.requests.length
    await new Promise((r) => setTimeout(r, 150))
    expect(e.server.requests.length).toBe(count)
  })

  test('without requireInitialFetch, a down endpoint is retried in the background', async () => {
    const e = await endpoint(bServer, b.spiffeBundle())
    e.status = 500
    const source = await create({ ...fast, endpoints: [bEndpoint(e.server.url)] })
    expect(source.healthy).toBe(false)
    // Meanwhile the self-serving endpoint's configured bundle is served (X.509 only).
    expect(source.getX509BundleForTrustDomain(B)?.authorities).toHaveLength(1)
    expect(source.getJwtBundleForTrustDomain(B)?.isEmpty).toBe(true)
    e.status = 200
    await source.waitUntilUpdated(AbortSignal.timeout(3000))
    expect(source.getJwtBundleForTrustDomain(B)?.findAuthority(b.jwtKeyId)).toBeDefined()
    expect(source.healthy).toBe(true)
  })

  test('configuration is validated eagerly', async () => {
    const url = 'https://127.0.0.1:1/'
    expect(
      await codeOf(() => FederatedBundleSource.create({ endpoints: [bEndpoint(url), bEndpoint(url)] })),
    ).toBe('ERR_FEDERATION_ENDPOINT_INVALID')
    expect(
      await codeOf(() =>
        FederatedBundleSource.create({ endpoints: [{ ...bEndpoint(url), initialBundle: undefined }] }),
      ),
    ).toBe('ERR_FEDERATION_ENDPOINT_INVALID')
    expect(
      await codeOf(() =>
        FederatedBundleSource.create({ endpoints: [{ ...bEndpoint(url), initialBundle: a.x509Bundle() }] }),
      ),
    ).toBe('ERR_FEDERATION_ENDPOINT_INVALID')
    expect(
      await codeOf(() =>
        FederatedBundleSource.create({
          endpoints: [{ trustDomain: B, url, profile: 'https_web', initialBundle: b.x509Bundle() }],
        }),
      ),
    ).toBe('ERR_FEDERATION_ENDPOINT_INVALID')
    expect(
      await codeOf(() =>
        FederatedBundleSource.create({ endpoints: [{ ...bEndpoint('http://127.0.0.1:1/') }] }),
      ),
    ).toBe('ERR_FEDERATION_ENDPOINT_INVALID')
    expect(
      await codeOf(() =>
        FederatedBundleSource.create({ minRefreshMs: 100, maxRefreshMs: 10, endpoints: [] }),
      ),
    ).toBe('ERR_OPTIONS_INVALID')
    expect(await codeOf(() => FederatedBundleSource.create({} as never))).toBe('ERR_OPTIONS_INVALID')
  })

  test('close() stops polling and aborts in-flight fetches; getters then throw', async () => {
    const holds: (() => void)[] = []
    const slow = await startServer({ svid: bServer }, (_req, res) => {
      holds.push(() => {
        res.writeHead(200)
        res.end(b.spiffeBundle().toJson())
      })
    })
    servers.push(slow)
    const fastEp = await endpoint(bServer, b.spiffeBundle())
    const source = await create({ ...fast, endpoints: [bEndpoint(fastEp.server.url)] })
    await source.close()
    await source.close()
    const calls = fastEp.server.requests.length
    await new Promise((r) => setTimeout(r, 150))
    expect(fastEp.server.requests.length).toBe(calls)
    expect(await codeOf(() => source.getX509BundleForTrustDomain(B))).toBe('ERR_SOURCE_CLOSED')
    expect(await codeOf(() => source.waitUntilUpdated())).toBe('ERR_SOURCE_CLOSED')
    expect(source.healthy).toBe(false)

    // A fetch hanging in flight is aborted by close().
    const pending = FederatedBundleSource.create({ endpoints: [bEndpoint(slow.url)] })
    await until(() => slow.requests.length === 1)
    const ac = new AbortController()
    const again = FederatedBundleSource.create({ endpoints: [bEndpoint(slow.url)], signal: ac.signal })
    await until(() => slow.requests.length === 2)
    ac.abort(new Error('shutting down'))
    await expect(again).rejects.toThrow('shutting down')
    for (const release of holds) release()
    const created = await pending
    sources.push(created)
  })
})
