import { createServer, type Server } from 'node:http'
import { BundleSet, SpiffeBundle } from '@svidkit/core/bundle'
import {
  createBundleEndpointHandler,
  createBundleEndpointServer,
  fetchBundle,
} from '@svidkit/core/federation'
import { StaticSource } from '@svidkit/core/source'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { codeOf, TestCA } from '@svidkit/testing'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { errorOf } from './helpers.js'

let ca: TestCA
let webCa: TestCA
const td = TrustDomain.parse('serve.test')
const closers: (() => Promise<void>)[] = []

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: td })
  webCa = await TestCA.create({ trustDomain: 'web-roots.test' })
})

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

async function plainServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r())
        server.closeAllConnections()
      }),
  )
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`
}

describe('createBundleEndpointHandler', () => {
  test('GET serves the bundle document as application/json', async () => {
    const bundle = ca.spiffeBundle({ refreshHintSeconds: 300, sequenceNumber: 2n ** 60n })
    const url = await plainServer(
      createBundleEndpointHandler({ trustDomain: td, source: new BundleSet([bundle]) }),
    )
    const res = await fetch(url, { headers: { connection: 'close' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const text = await res.text()
    expect(SpiffeBundle.parse(td, text).equals(bundle)).toBe(true)
    expect(text).toContain(`"spiffe_sequence":${2n ** 60n}`)
  })

  test('other methods get 405 with Allow: GET', async () => {
    const url = await plainServer(createBundleEndpointHandler({ trustDomain: td, source: ca.spiffeBundle() }))
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      const res = await fetch(url, { method, headers: { connection: 'close' } })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('GET')
      await res.arrayBuffer()
    }
  })

  test('a missing bundle is a 500; a closed or not-ready source a 503', async () => {
    const other = await plainServer(
      createBundleEndpointHandler({ trustDomain: 'elsewhere.test', source: ca.spiffeBundle() }),
    )
    const r1 = await fetch(other, { headers: { connection: 'close' } })
    expect(r1.status).toBe(500)
    expect(await r1.text()).toContain('unable to serve bundle for "elsewhere.test"')
    const source = new StaticSource({ bundles: ca.bundleSet() })
    const url = await plainServer(createBundleEndpointHandler({ trustDomain: td, source }))
    expect((await fetch(url, { headers: { connection: 'close' } })).status).toBe(200)
    await source.close()
    const r2 = await fetch(url, { headers: { connection: 'close' } })
    expect(r2.status).toBe(503)
    await r2.arrayBuffer()
  })

  test('serves the current bundle of a live source on every request', async () => {
    const source = new StaticSource({ bundles: ca.spiffeBundle({ sequenceNumber: 1n }) })
    closers.push(() => source.close())
    const url = await plainServer(createBundleEndpointHandler({ trustDomain: td, source }))
    const seq = async (): Promise<number> =>
      JSON.parse(await (await fetch(url, { headers: { connection: 'close' } })).text()).spiffe_sequence
    expect(await seq()).toBe(1)
    source.update({ bundles: ca.spiffeBundle({ sequenceNumber: 2n }) })
    expect(await seq()).toBe(2)
  })

  test('an X.509-only source serves only x509-svid keys', async () => {
    const source = {
      getX509BundleForTrustDomain: (t: TrustDomain) => ca.x509Bundle().getX509BundleForTrustDomain(t),
    }
    const url = await plainServer(createBundleEndpointHandler({ trustDomain: td, source }))
    const doc = JSON.parse(await (await fetch(url, { headers: { connection: 'close' } })).text())
    expect(doc.keys.map((k: { use: string }) => k.use)).toEqual(['x509-svid'])
  })

  test('options are validated eagerly', () => {
    expect(() => createBundleEndpointHandler({ trustDomain: 'Bad TD', source: ca.spiffeBundle() })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => createBundleEndpointHandler({ trustDomain: td, source: {} as never })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})

describe('createBundleEndpointServer', () => {
  test('https_spiffe: serves with the current SVID and follows its rotation', async () => {
    const svidSource = new StaticSource({ svid: await ca.issueX509Svid({ id: '/endpoint-a' }) })
    closers.push(() => svidSource.close())
    const bundles = new StaticSource({ bundles: ca.spiffeBundle({ sequenceNumber: 4n }) })
    closers.push(() => bundles.close())
    const server = await createBundleEndpointServer({ trustDomain: td, source: bundles, svidSource })
    closers.push(() => server.close())
    expect(server.url.href).toBe(`https://127.0.0.1:${server.port}/`)
    const fetchAs = (id: string) =>
      fetchBundle({
        trustDomain: td,
        url: server.url,
        profile: 'https_spiffe',
        endpointSpiffeId: id,
        bundleSource: ca.x509Bundle(),
        timeoutMs: 3000,
      })
    expect((await fetchAs('spiffe://serve.test/endpoint-a')).sequenceNumber).toBe(4n)
    svidSource.update({ svid: await ca.issueX509Svid({ id: '/endpoint-b' }) })
    expect((await fetchAs('spiffe://serve.test/endpoint-b')).sequenceNumber).toBe(4n)
    expect(await codeOf(() => fetchAs('spiffe://serve.test/endpoint-a'))).toBe('ERR_FEDERATION_FETCH_FAILED')
  })

  test('https_spiffe: connections are refused while the SVID source has no valid SVID', async () => {
    const svidSource = new StaticSource({ svid: await ca.issueX509Svid({ id: '/endpoint' }) })
    const server = await createBundleEndpointServer({
      trustDomain: td,
      source: ca.spiffeBundle(),
      svidSource,
    })
    closers.push(() => server.close())
    await svidSource.close()
    const err = await errorOf(() =>
      fetchBundle({
        trustDomain: td,
        url: server.url,
        profile: 'https_spiffe',
        endpointSpiffeId: 'spiffe://serve.test/endpoint',
        bundleSource: ca.x509Bundle(),
        timeoutMs: 3000,
      }),
    )
    expect(err.code).toBe('ERR_FEDERATION_FETCH_FAILED')
  })

  test('https_web: a Web PKI key and certificate', async () => {
    const web = await webCa.issueWebCertificate({ ipAddresses: ['127.0.0.1'] })
    const server = await createBundleEndpointServer({
      trustDomain: td,
      source: ca.spiffeBundle(),
      key: web.privateKeyPem,
      cert: web.certificatesPem,
    })
    closers.push(() => server.close())
    const bundle = await fetchBundle({
      trustDomain: td,
      url: server.url,
      profile: 'https_web',
      ca: webCa.certificate.toString(),
      timeoutMs: 3000,
    })
    expect(bundle.equals(ca.spiffeBundle())).toBe(true)
    await server.close()
    await server.close()
  })

  test('options are validated eagerly', async () => {
    const svidSource = new StaticSource({ svid: await ca.issueX509Svid({ id: '/e' }) })
    closers.push(() => svidSource.close())
    const base = { trustDomain: td, source: ca.spiffeBundle() }
    expect(await codeOf(() => createBundleEndpointServer(base))).toBe('ERR_OPTIONS_INVALID')
    expect(await codeOf(() => createBundleEndpointServer({ ...base, key: 'k' }))).toBe('ERR_OPTIONS_INVALID')
    expect(await codeOf(() => createBundleEndpointServer({ ...base, svidSource, key: 'k', cert: 'c' }))).toBe(
      'ERR_OPTIONS_INVALID',
    )
    expect(await codeOf(() => createBundleEndpointServer({ ...base, svidSource, port: 70_000 }))).toBe(
      'ERR_OPTIONS_INVALID',
    )
    expect(await codeOf(() => createBundleEndpointServer({ ...base, svidSource: new StaticSource() }))).toBe(
      'ERR_SOURCE_NO_SVID',
    )
  })
})
