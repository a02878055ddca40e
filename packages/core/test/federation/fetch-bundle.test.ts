import { createServer as createNetServer, type Server as NetServer } from 'node:net'
import { BundleSet, SpiffeBundle } from '@svidkit/core/bundle'
import { type FetchBundleOptions, fetchBundle } from '@svidkit/core/federation'
import { codeOf, TestCA, type TestX509Svid } from '@svidkit/testing'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { errorOf, respond, startServer, type TestServer } from './helpers.js'

let ca: TestCA
let otherCa: TestCA
let webCa: TestCA
let serverSvid: TestX509Svid
let served: SpiffeBundle
const servers: TestServer[] = []

const ENDPOINT_ID = 'spiffe://fed.test/bundle-server'

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'fed.test' })
  otherCa = await TestCA.create({ trustDomain: 'other.test' })
  webCa = await TestCA.create({ trustDomain: 'webpki.test' })
  serverSvid = await ca.issueX509Svid({ id: '/bundle-server' })
  served = ca.spiffeBundle({ refreshHintSeconds: 60, sequenceNumber: 7n })
})

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function serve(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args)
  servers.push(s)
  return s
}

const bundleHandler = () => respond(200, served.toJson(), { 'content-type': 'application/json' })

function spiffeOptions(url: string, extra: Partial<FetchBundleOptions> = {}): FetchBundleOptions {
  return {
    trustDomain: 'fed.test',
    url,
    profile: 'https_spiffe',
    endpointSpiffeId: ENDPOINT_ID,
    bundleSource: ca.x509Bundle(),
    timeoutMs: 3000,
    ...extra,
  }
}

describe('fetchBundle: https_spiffe', () => {
  test('the right endpoint ID: the bundle is fetched and parsed for the configured trust domain', async () => {
    const s = await serve({ svid: serverSvid }, bundleHandler())
    const bundle = await fetchBundle(spiffeOptions(s.url))
    expect(bundle.trustDomain.name).toBe('fed.test')
    expect(bundle.equals(served)).toBe(true)
    expect(bundle.refreshHintSeconds).toBe(60)
    expect(bundle.sequenceNumber).toBe(7n)
    expect(s.requests).toHaveLength(1)
    expect(s.requests[0]!.method).toBe('GET')
  })

  test('a wrong endpoint ID is refused before any request is sent', async () => {
    const s = await serve({ svid: serverSvid }, bundleHandler())
    const err = await errorOf(() =>
      fetchBundle(spiffeOptions(s.url, { endpointSpiffeId: 'spiffe://fed.test/someone-else' })),
    )
    expect(err.code).toBe('ERR_FEDERATION_FETCH_FAILED')
    expect(err.message).toContain('expected "spiffe://fed.test/someone-else"')
    expect(s.connections).toBe(1) // the server was reached…
    await new Promise((r) => setTimeout(r, 50))
    expect(s.requests).toHaveLength(0) // …but never received a request
  })

  test("a server certificate from another trust domain's CA is refused", async () => {
    // An SVID of other.test: not the expected ID, and no bundle for other.test is configured.
    const foreign = await otherCa.issueX509Svid({ id: '/bundle-server' })
    const s1 = await serve({ svid: foreign }, bundleHandler())
    const e1 = await errorOf(() => fetchBundle(spiffeOptions(s1.url)))
    expect(e1.code).toBe('ERR_FEDERATION_FETCH_FAILED')
    expect(e1.message).toContain('not a valid X509-SVID')
    // other.test's CA forging the exact endpoint ID of fed.test: fed.test's bundle refuses it.
    const forged = await otherCa.issueX509Svid({ id: ENDPOINT_ID })
    const s2 = await serve({ svid: forged }, bundleHandler())
    const both = new BundleSet([ca.x509Bundle(), otherCa.x509Bundle()])
    const e2 = await errorOf(() => fetchBundle(spiffeOptions(s2.url, { bundleSource: both })))
    expect(e2.code).toBe('ERR_FEDERATION_FETCH_FAILED')
    expect(e2.message).toContain('unknown authority')
    expect(s1.requests).toHaveLength(0)
    expect(s2.requests).toHaveLength(0)
  })

  test('a plain Web PKI certificate is not an X509-SVID', async () => {
    const web = await webCa.issueWebCertificate({ ipAddresses: ['127.0.0.1'] })
    const s = await serve({ key: web.privateKeyPem, cert: web.certificatesPem }, bundleHandler())
    expect(await codeOf(() => fetchBundle(spiffeOptions(s.url)))).toBe('ERR_FEDERATION_FETCH_FAILED')
    expect(s.requests).toHaveLength(0)
  })

  test('an expired server SVID is refused', async () => {
    const expired = await ca.issueX509Svid({
      id: '/bundle-server',
      notBefore: new Date(Date.now() - 7200_000),
      notAfter: new Date(Date.now() - 60_000),
    })
    const s = await serve({ svid: expired }, bundleHandler())
    const err = await errorOf(() => fetchBundle(spiffeOptions(s.url)))
    expect(err.message).toContain('expired')
    expect(s.requests).toHaveLength(0)
  })
})

describe('fetchBundle: https_web', () => {
  test('a custom CA and a matching IP SAN', async () => {
    const web = await webCa.issueWebCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] })
    const s = await serve({ key: web.privateKeyPem, cert: web.certificatesPem }, bundleHandler())
    const bundle = await fetchBundle({
      trustDomain: 'fed.test',
      url: s.url,
      profile: 'https_web',
      ca: webCa.certificate.toString(),
      timeoutMs: 3000,
    })
    expect(bundle.equals(served)).toBe(true)
  })

  test('the host name is checked (RFC 6125)', async () => {
    const web = await webCa.issueWebCertificate({ dnsNames: ['bundles.fed.test'] })
    const s = await serve({ key: web.privateKeyPem, cert: web.certificatesPem }, bundleHandler())
    const err = await errorOf(() =>
      fetchBundle({
        trustDomain: 'fed.test',
        url: s.url,
        profile: 'https_web',
        ca: webCa.certificate.toString(),
      }),
    )
    expect(err.code).toBe('ERR_FEDERATION_FETCH_FAILED')
    expect(err.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID')
    expect(s.requests).toHaveLength(0)
  })

  test('an untrusted CA is refused (default: the system roots)', async () => {
    const web = await webCa.issueWebCertificate({ ipAddresses: ['127.0.0.1'] })
    const s = await serve({ key: web.privateKeyPem, cert: web.certificatesPem }, bundleHandler())
    expect(
      await codeOf(() =>
        fetchBundle({ trustDomain: 'fed.test', url: s.url, profile: 'https_web', timeoutMs: 3000 }),
      ),
    ).toBe('ERR_FEDERATION_FETCH_FAILED')
    expect(
      await codeOf(() =>
        fetchBundle({
          trustDomain: 'fed.test',
          url: s.url,
          profile: 'https_web',
          ca: otherCa.certificate.toString(),
        }),
      ),
    ).toBe('ERR_FEDERATION_FETCH_FAILED')
    expect(s.requests).toHaveLength(0)
  })
})

describe('fetchBundle: redirects', () => {
  test('followed to a valid endpoint with the same checks, and never stored', async () => {
    const target = await serve({ svid: serverSvid }, bundleHandler())
    const origin = await serve({ svid: serverSvid }, (_req, res) => {
      res.writeHead(302, { location: `${target.url}bundle.json` })
      res.end()
    })
    expect((await fetchBundle(spiffeOptions(origin.url))).equals(served)).toBe(true)
    expect((await fetchBundle(spiffeOptions(origin.url))).equals(served)).toBe(true)
    expect(origin.requests).toHaveLength(2) // the redirect is temporary: asked again every time
    expect(target.requests.map((r) => r.url)).toEqual(['/bundle.json', '/bundle.json'])
  })

  test('a redirect to a server with another SPIFFE ID is refused before the request', async () => {
    const impostor = await serve({ svid: await ca.issueX509Svid({ id: '/impostor' }) }, bundleHandler())
    const origin = await serve({ svid: serverSvid }, respond(307, '', { location: impostor.url }))
    const err = await errorOf(() => fetchBundle(spiffeOptions(origin.url)))
    expect(err.message).toContain('spiffe://fed.test/impostor')
    expect(impostor.requests).toHaveLength(0)
  })

  test('a redirect to a non-https URL, or with userinfo, is refused', async () => {
    const http = await serve({ svid: serverSvid }, respond(301, '', { location: 'http://127.0.0.1:1/' }))
    expect((await errorOf(() => fetchBundle(spiffeOptions(http.url)))).message).toContain(
      'invalid endpoint URL',
    )
    const user = await serve({ svid: serverSvid }, respond(302, '', { location: 'https://u:p@127.0.0.1:1/' }))
    expect(await codeOf(() => fetchBundle(spiffeOptions(user.url)))).toBe('ERR_FEDERATION_FETCH_FAILED')
  })

  test('a redirect loop stops after maxRedirects', async () => {
    const loop = await serve({ svid: serverSvid }, (_req, res) => {
      res.writeHead(302, { location: '/again' })
      res.end()
    })
    const err = await errorOf(() => fetchBundle(spiffeOptions(loop.url, { maxRedirects: 3 })))
    expect(err.message).toContain('more than 3 redirects')
    expect(loop.requests).toHaveLength(4)
  })
})

describe('fetchBundle: responses', () => {
  test('Content-Type may be missing', async () => {
    const s = await serve({ svid: serverSvid }, respond(200, served.toJson()))
    expect((await fetchBundle(spiffeOptions(s.url))).equals(served)).toBe(true)
  })

  test('an oversized response is refused (declared or streamed)', async () => {
    const big = JSON.stringify({ keys: [], padding: 'x'.repeat(5000) })
    const declared = await serve({ svid: serverSvid }, respond(200, big))
    const e1 = await errorOf(() => fetchBundle(spiffeOptions(declared.url, { maxResponseBytes: 1000 })))
    expect(e1.message).toContain('larger than 1000 bytes')
    const chunked = await serve({ svid: serverSvid }, (_req, res) => {
      res.writeHead(200)
      for (let i = 0; i < 10; i++) res.write('x'.repeat(500))
      res.end()
    })
    const e2 = await errorOf(() => fetchBundle(spiffeOptions(chunked.url, { maxResponseBytes: 1000 })))
    expect(e2.message).toContain('larger than 1000 bytes')
  })

  test('a non-200 status, invalid JSON or a non-bundle body fail', async () => {
    const s500 = await serve({ svid: serverSvid }, respond(500, 'oops'))
    expect((await errorOf(() => fetchBundle(spiffeOptions(s500.url)))).message).toContain('HTTP 500')
    const junk = await serve({ svid: serverSvid }, respond(200, '<html>'))
    expect((await errorOf(() => fetchBundle(spiffeOptions(junk.url)))).message).toContain(
      'not a valid SPIFFE bundle',
    )
    const noKeys = await serve({ svid: serverSvid }, respond(200, '{"spiffe_sequence":1}'))
    expect(await codeOf(() => fetchBundle(spiffeOptions(noKeys.url)))).toBe('ERR_FEDERATION_FETCH_FAILED')
  })

  test('a server that never answers times out; the signal aborts', async () => {
    const silent: NetServer = createNetServer(() => undefined)
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const port = (silent.address() as { port: number }).port
    try {
      const started = Date.now()
      const err = await errorOf(() =>
        fetchBundle(spiffeOptions(`https://127.0.0.1:${port}/`, { timeoutMs: 200 })),
      )
      expect(err.code).toBe('ERR_FEDERATION_FETCH_FAILED')
      expect(err.message).toContain('timed out after 200 ms')
      expect(Date.now() - started).toBeLessThan(2000)
      const ac = new AbortController()
      const pending = fetchBundle(spiffeOptions(`https://127.0.0.1:${port}/`, { signal: ac.signal }))
      ac.abort(new Error('caller gave up'))
      await expect(pending).rejects.toThrow('caller gave up')
    } finally {
      silent.close()
    }
  })

  test('a refused connection fails cleanly', async () => {
    const probe = createNetServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const port = (probe.address() as { port: number }).port
    await new Promise<void>((r) => probe.close(() => r()))
    expect(await codeOf(() => fetchBundle(spiffeOptions(`https://127.0.0.1:${port}/`)))).toBe(
      'ERR_FEDERATION_FETCH_FAILED',
    )
  })
})

describe('fetchBundle: the relationship is explicit and checked', () => {
  const base = {
    trustDomain: 'fed.test',
    url: 'https://127.0.0.1:1/',
    profile: 'https_spiffe' as const,
    endpointSpiffeId: ENDPOINT_ID,
  }
  test.each([
    ['http scheme', { url: 'http://127.0.0.1/' }],
    ['ftp scheme', { url: 'ftp://127.0.0.1/' }],
    ['userinfo', { url: 'https://user:pw@127.0.0.1/' }],
    ['user only', { url: 'https://user@127.0.0.1/' }],
    ['empty userinfo', { url: 'https://@127.0.0.1/' }],
    ['not a URL', { url: 'not a url' }],
    ['relative URL', { url: '/bundle' }],
    ['missing URL', { url: undefined }],
    ['missing trust domain', { trustDomain: undefined }],
    ['bad trust domain', { trustDomain: 'Fed.Test' }],
    ['missing profile', { profile: undefined }],
    ['unknown profile', { profile: 'https' }],
    ['https_spiffe without an endpoint ID', { endpointSpiffeId: undefined }],
    ['bad endpoint ID', { endpointSpiffeId: 'fed.test/server' }],
    ['https_web with an endpoint ID', { profile: 'https_web' }],
    ['https_spiffe without a bundle source', { bundleSource: undefined }],
    ['https_spiffe with web roots', { ca: 'pem' }],
  ])('%s → ERR_FEDERATION_ENDPOINT_INVALID', async (_name, patch) => {
    const options = { ...base, bundleSource: ca.x509Bundle(), ...patch } as unknown as FetchBundleOptions
    expect(await codeOf(() => fetchBundle(options))).toBe('ERR_FEDERATION_ENDPOINT_INVALID')
  })

  test('other bad options → ERR_OPTIONS_INVALID', async () => {
    expect(
      await codeOf(() => fetchBundle({ ...base, bundleSource: ca.x509Bundle(), maxResponseBytes: 0 })),
    ).toBe('ERR_OPTIONS_INVALID')
  })
})

test('the served bundle can come from SpiffeBundle.parse round trip', () => {
  expect(SpiffeBundle.parse('fed.test', served.toJson()).equals(served)).toBe(true)
})
