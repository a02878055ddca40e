import { createServer } from 'node:http'
import { createServer as createHttp2Server, connect as http2Connect } from 'node:http2'
import { type AddressInfo, connect } from 'node:net'
import { credentialsFromNodeRequest, httpOperation } from '@svidkit/core/adapter'
import { BundleSet } from '@svidkit/core/bundle'
import { type CallerCredentials, createCallerVerifier, httpRouting } from '@svidkit/core/caller'
import { codeOf, TestCA } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'

let bundles: BundleSet
const op = { kind: 'http', method: 'GET', path: '/orders/42' } as const

beforeAll(async () => {
  const ca = await TestCA.create({ trustDomain: 'example.org' })
  bundles = new BundleSet([ca.spiffeBundle()])
})

describe('credentialsFromNodeRequest', () => {
  test('credentialsFromNodeRequest reads a Node request', () => {
    const v = createCallerVerifier({ bundles, mtls: false, xfcc: {}, jwt: { audience: 'orders' } })
    const socket = { remoteAddress: '127.0.0.1' }
    const creds: CallerCredentials = credentialsFromNodeRequest(v, {
      method: 'post',
      url: '/orders/1?x=1',
      headers: { authorization: 'Bearer t' },
      headersDistinct: { 'x-forwarded-client-cert': ['a', 'b'] },
      socket,
    })
    expect(creds).toMatchObject({
      operation: { kind: 'http', method: 'POST', path: '/orders/1' },
      peerAddress: '127.0.0.1',
      authorization: 'Bearer t',
      xfcc: ['a', 'b'],
    })
  })

  test("HTTP/2: one socket per connection (the session's), where each request has a socket proxy of its own", async () => {
    const v = createCallerVerifier({ bundles, mtls: false, jwt: { audience: 'orders' } })
    const seen: { credentials: unknown; request: unknown; peer: string | undefined }[] = []
    const server = createHttp2Server((req, res) => {
      const c = credentialsFromNodeRequest(v, req)
      seen.push({ credentials: c.socket, request: req.socket, peer: c.peerAddress })
      res.end('ok')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const client = http2Connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    try {
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) => {
          const r = client.request({ ':path': `/orders/${i}` })
          r.on('error', reject)
          r.resume()
          r.on('end', resolve)
          r.end()
        })
      }
    } finally {
      client.close()
      await new Promise((resolve) => server.close(resolve))
    }
    expect(seen).toHaveLength(3)
    expect(seen[0]!.request).not.toBe(seen[1]!.request)
    expect(seen[1]!.credentials).toBe(seen[0]!.credentials)
    expect(seen[2]!.credentials).toBe(seen[0]!.credentials)
    expect(seen.map((s) => s.peer)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1'])
  })

  test('credentialsFromNodeRequest on a real Node request: every header line, in order, any case', async () => {
    const v = createCallerVerifier({
      bundles,
      mtls: false,
      xfcc: {},
      jwt: { audience: 'orders' },
      forwardedCert: { header: 'X-Client-Cert', format: 'nginx' },
    })
    const seen: CallerCredentials[] = []
    const server = createServer((req, res) => {
      seen.push(credentialsFromNodeRequest(v, req))
      // What Node's own `headersDistinct` holds for the same request.
      seen.push({
        operation: op,
        authorization: req.headersDistinct.authorization,
        xfcc: req.headersDistinct['x-forwarded-client-cert'],
        forwardedCert: req.headersDistinct['x-client-cert'],
      })
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const send = (head: string) =>
      new Promise<void>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.end(`GET /x?q=1 HTTP/1.1\r\nHost: h\r\n${head}\r\n`))
        s.on('data', () => undefined)
          .on('close', () => resolve())
          .on('error', reject)
      })
    try {
      await send(
        'authorization: Bearer a\r\nX-Forwarded-Client-Cert: one\r\nAUTHORIZATION: Bearer b\r\nx-forwarded-client-cert: two\r\nConnection: close\r\n',
      )
      await send('X-CLIENT-CERT: c\r\nConnection: close\r\n')
    } finally {
      server.close()
    }
    const [twoLines, node1, oneLine, node2] = seen
    expect(twoLines).toMatchObject({
      operation: { kind: 'http', method: 'GET', path: '/x' },
      peerAddress: '127.0.0.1',
      authorization: ['Bearer a', 'Bearer b'],
      xfcc: ['one', 'two'],
      forwardedCert: undefined,
    })
    expect(twoLines?.authorization).toEqual(node1?.authorization)
    expect(twoLines?.xfcc).toEqual(node1?.xfcc)
    expect(oneLine).toMatchObject({ authorization: undefined, xfcc: undefined, forwardedCert: ['c'] })
    expect(oneLine?.forwardedCert).toEqual(node2?.forwardedCert)
    // Repeated Authorization lines are refused, as before.
    expect(await codeOf(() => v.verifyCaller({ ...twoLines!, xfcc: undefined }))).toBe(
      'ERR_CREDENTIALS_MALFORMED',
    )
  })

  test('reads only the headers of accepted channels', () => {
    const v = createCallerVerifier({ bundles, audit: false })
    expect(v.headers).toEqual({
      authorization: undefined,
      xfcc: undefined,
      forwardedCert: undefined,
      forwardedCertChain: undefined,
    })
    const creds = credentialsFromNodeRequest(v, {
      url: '/',
      headers: { authorization: 'Bearer t', 'x-forwarded-client-cert': 'URI=spiffe://example.org/x' },
    })
    expect(creds.authorization).toBeUndefined()
    expect(creds.xfcc).toBeUndefined()
  })
})

describe('httpOperation', () => {
  test('method upper-cased, query dropped, originalUrl first, hints carried', () => {
    const routing = httpRouting({ caseSensitive: false })
    expect(httpOperation({ method: 'get', url: '/a?b=1' })).toEqual({
      kind: 'http',
      method: 'GET',
      path: '/a',
      route: undefined,
      routing: undefined,
    })
    expect(
      httpOperation({ method: 'post', url: '/x', originalUrl: '/api/x?y' }, { route: '/api/:id', routing }),
    ).toEqual({
      kind: 'http',
      method: 'POST',
      path: '/api/x',
      route: '/api/:id',
      routing,
    })
    expect(httpOperation({ url: '/a' }, { path: '/override' }).path).toBe('/override')
  })
})
