import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import tls from 'node:tls'
import { StaticSource } from '@svidkit/core/source'
import { matchId, matchMemberOf } from '@svidkit/core/spiffe-id'
import {
  createMtlsClientConfig,
  createMtlsServerConfig,
  createSpiffeDispatcher,
  createSpiffeHttpsAgent,
  getTlsCaller,
  type TlsPeer,
} from '@svidkit/core/tls'
import { codeOf, TestCA, type TestX509Svid } from '@svidkit/testing'
import { fetch as undiciFetch } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { byteCountingServer, close, HOST, httpsGet, listen, sleep, within } from './helpers.js'

let caA: TestCA
let caB: TestCA
let serverSvid: TestX509Svid
let clientSvid: TestX509Svid
let serverSource: StaticSource
let clientSource: StaticSource
const cleanup: (() => Promise<void>)[] = []

beforeAll(async () => {
  caA = await TestCA.create({ trustDomain: 'a.test' })
  caB = await TestCA.create({ trustDomain: 'b.test' })
  serverSvid = await caA.issueX509Svid({ id: '/server' })
  clientSvid = await caA.issueX509Svid({ id: '/client' })
  serverSource = new StaticSource({ svid: serverSvid, bundles: [caA.x509Bundle(), caB.x509Bundle()] })
  clientSource = new StaticSource({ svid: clientSvid, bundles: [caA.x509Bundle(), caB.x509Bundle()] })
})

afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})

afterAll(async () => {
  await serverSource.close()
  await clientSource.close()
})

/** A svidkit https server presenting `svid` that admits a.test clients, counting handled requests. */
async function server(svid: TestX509Svid = serverSvid) {
  const source = svid === serverSvid ? serverSource : new StaticSource({ svid, bundles: caA.x509Bundle() })
  const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('a.test') })
  let handled = 0
  const srv = mtls.attach(
    https.createServer(mtls.serverOptions, (req, res) => {
      handled++
      res.end(`hello ${getTlsCaller(req)?.spiffeId}`)
    }),
  )
  srv.on('tlsClientError', () => {})
  const port = await listen(srv)
  cleanup.push(async () => {
    await close(srv)
    if (source !== serverSource) await source.close()
  })
  return { port, handled: () => handled }
}

describe('mTLS client: node:https agent', () => {
  test('presents the SVID and accepts a server whose ID is authorized', async () => {
    const { port } = await server()
    const verified: TlsPeer[] = []
    const agent = createSpiffeHttpsAgent({
      source: clientSource,
      authorize: matchId('spiffe://a.test/server'),
      onVerified: (p) => verified.push(p),
    })
    cleanup.push(async () => agent.destroy())
    const reply = await httpsGet(port, { agent })
    expect(reply).toEqual({ status: 200, body: 'hello spiffe://a.test/client' })
    expect(verified.map((p) => [p.role, p.id.toString()])).toEqual([['server', 'spiffe://a.test/server']])
  })

  test('a server SPIFFE ID mismatch fails the client, and the server sees no request', async () => {
    const { port, handled } = await server()
    const agent = createSpiffeHttpsAgent({
      source: clientSource,
      authorize: matchId('spiffe://a.test/other'),
    })
    cleanup.push(async () => agent.destroy())
    const err = await httpsGet(port, { agent }).catch((e: unknown) => e)
    expect(codeOf(err)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    await sleep(50)
    expect(handled()).toBe(0)
  })

  test("a server certificate for a.test signed by b.test's CA is refused, though b.test's CA is in the pool", async () => {
    const forged = await caB.issueX509Svid({ id: 'spiffe://a.test/server' })
    const { port, handled } = await server(forged)
    const agent = createSpiffeHttpsAgent({ source: clientSource, authorize: matchMemberOf('a.test') })
    cleanup.push(async () => agent.destroy())
    const err = await httpsGet(port, { agent }).catch((e: unknown) => e)
    expect(codeOf(err)).toBe('ERR_X509_SVID_UNTRUSTED')
    expect(handled()).toBe(0)
  })

  test('a server from an unknown CA is refused by OpenSSL already', async () => {
    const stranger = await TestCA.create({ trustDomain: 'a.test' })
    const { port, handled } = await server(await stranger.issueX509Svid({ id: '/server' }))
    const agent = createSpiffeHttpsAgent({ source: clientSource, authorize: matchMemberOf('a.test') })
    cleanup.push(async () => agent.destroy())
    await expect(httpsGet(port, { agent })).rejects.toThrow()
    expect(handled()).toBe(0)
  })

  test('no TLS session is offered, even to a server that issues tickets', async () => {
    // A plain node:https server with tickets on: resumption would skip checkServerIdentity.
    const reused: boolean[] = []
    const plain = https.createServer(
      {
        key: serverSvid.privateKeyPem,
        cert: serverSvid.certificatesPem,
        ca: caA.certificate.toString(),
        requestCert: true,
      },
      (req, res) => {
        reused.push((req.socket as tls.TLSSocket).isSessionReused())
        res.end('ok')
      },
    )
    const port = await listen(plain)
    cleanup.push(() => close(plain))
    const agent = createSpiffeHttpsAgent({
      source: clientSource,
      authorize: matchId('spiffe://a.test/server'),
      keepAlive: false,
    })
    cleanup.push(async () => agent.destroy())
    for (let i = 0; i < 3; i++) expect((await httpsGet(port, { agent })).body).toBe('ok')
    expect(reused).toEqual([false, false, false])
  })

  test('a source without an SVID fails the request, not the caller', async () => {
    const { port } = await server()
    const empty = new StaticSource({ bundles: caA.x509Bundle() })
    cleanup.push(() => empty.close())
    const agent = createSpiffeHttpsAgent({ source: empty, authorize: matchMemberOf('a.test') })
    cleanup.push(async () => agent.destroy())
    const err = await httpsGet(port, { agent }).catch((e: unknown) => e)
    expect(codeOf(err)).toBe('ERR_SOURCE_NO_SVID')
  })
})

describe('mTLS client: no request byte reaches an unverified server', () => {
  test('tls.connect: bytes written before the handshake completes never reach a refused server', async () => {
    const { server: raw, received } = byteCountingServer({
      key: serverSvid.privateKeyPem,
      cert: serverSvid.certificatesPem,
      requestCert: true,
      rejectUnauthorized: false,
    })
    const port = await listen(raw)
    cleanup.push(() => close(raw))
    const client = createMtlsClientConfig({
      source: clientSource,
      authorize: matchId('spiffe://a.test/other'),
    })
    const err = await within(
      new Promise<unknown>((resolve) => {
        const s = tls.connect({ ...client.connectOptions(), host: HOST, port })
        s.write('GET /secret HTTP/1.1\r\nHost: x\r\n\r\n')
        s.on('secureConnect', () => resolve(new Error('connected to an unverified server')))
        s.on('error', resolve)
      }),
    )
    expect(codeOf(err)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    await sleep(100)
    expect(received()).toBe(0)

    // Control: the same server, authorized, does receive the early bytes.
    const ok = createMtlsClientConfig({ source: clientSource, authorize: matchId('spiffe://a.test/server') })
    await within(
      new Promise<void>((resolve, reject) => {
        const s = tls.connect({ ...ok.connectOptions(), host: HOST, port })
        s.write('PING')
        s.on('secureConnect', () =>
          setTimeout(() => {
            s.destroy()
            resolve()
          }, 100),
        )
        s.on('error', reject)
      }),
    )
    expect(received()).toBe(4)
  })

  test('node:http2 client: an unauthorized server gets no session and no stream', async () => {
    const mtls = createMtlsServerConfig({ source: serverSource, authorize: matchMemberOf('a.test') })
    let streams = 0
    const srv = mtls.attach(
      http2.createSecureServer(mtls.serverOptions, (_req, res) => {
        streams++
        res.end()
      }),
    )
    const port = await listen(srv)
    cleanup.push(() => close(srv))
    const client = createMtlsClientConfig({
      source: clientSource,
      authorize: matchId('spiffe://a.test/other'),
    })
    const session = http2.connect(`https://${HOST}:${port}`, client.connectOptions())
    const err = await within(
      new Promise<unknown>((resolve) => {
        session.on('error', resolve)
        const req = session.request({ ':path': '/' })
        req.on('error', () => {})
        req.end()
      }),
    )
    session.destroy()
    expect(codeOf(err)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    await sleep(50)
    expect(streams).toBe(0)
  })
})

describe('mTLS client: tls, http2, undici', () => {
  test('tls.connect with connectOptions() negotiates TLS 1.3 by default', async () => {
    const mtls = createMtlsServerConfig({ source: serverSource, authorize: matchMemberOf('a.test') })
    const srv = mtls.attach(
      tls.createServer(mtls.serverOptions, (s) => s.end(String(getTlsCaller(s)?.spiffeId))),
    )
    const port = await listen(srv)
    cleanup.push(() => close(srv))
    const client = createMtlsClientConfig({
      source: clientSource,
      authorize: matchId('spiffe://a.test/server'),
    })
    const [protocol, text] = await within(
      new Promise<[string | null, string]>((resolve, reject) => {
        let out = ''
        const s = tls.connect({ ...client.connectOptions(), host: HOST, port })
        s.setEncoding('utf8')
        s.on('data', (d: string) => {
          out += d
        })
        s.on('end', () => resolve([s.getProtocol(), out]))
        s.on('error', reject)
      }),
    )
    expect(protocol).toBe('TLSv1.3')
    expect(text).toBe('spiffe://a.test/client')
  })

  test('node:http2 client with connectOptions()', async () => {
    const mtls = createMtlsServerConfig({ source: serverSource, authorize: matchMemberOf('a.test') })
    const srv = mtls.attach(
      http2.createSecureServer(mtls.serverOptions, (req, res) =>
        res.end(`h2 ${getTlsCaller(req)?.spiffeId}`),
      ),
    )
    const port = await listen(srv)
    cleanup.push(() => close(srv))
    const client = createMtlsClientConfig({
      source: clientSource,
      authorize: matchId('spiffe://a.test/server'),
    })
    const session = http2.connect(`https://${HOST}:${port}`, client.connectOptions())
    try {
      const body = await within(
        new Promise<string>((resolve, reject) => {
          session.on('error', reject)
          const req = session.request({ ':path': '/' })
          let out = ''
          req.setEncoding('utf8')
          req.on('data', (d: string) => {
            out += d
          })
          req.on('end', () => resolve(out))
          req.on('error', reject)
          req.end()
        }),
      )
      expect(body).toBe('h2 spiffe://a.test/client')
    } finally {
      session.close()
    }
  })

  test('undici: createSpiffeDispatcher with undici fetch; a mismatch rejects and the server sees nothing', async () => {
    const { port, handled } = await server()
    const ok = createSpiffeDispatcher({ source: clientSource, authorize: matchId('spiffe://a.test/server') })
    const bad = createSpiffeDispatcher({ source: clientSource, authorize: matchId('spiffe://a.test/other') })
    cleanup.push(async () => {
      await ok.close()
      await bad.close()
    })
    const res = await within(undiciFetch(`https://${HOST}:${port}/`, { dispatcher: ok }))
    expect(await res.text()).toBe('hello spiffe://a.test/client')
    expect(handled()).toBe(1)
    const err = await within(undiciFetch(`https://${HOST}:${port}/`, { dispatcher: bad })).catch(
      (e: unknown) => e,
    )
    expect(codeOf(err)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    expect(handled()).toBe(1)
  })

  test('undici: plaintext http: origins are refused', async () => {
    let hits = 0
    const plain = http.createServer((_req, res) => {
      hits++
      res.end('plain')
    })
    const port = await listen(plain)
    cleanup.push(() => close(plain))
    const dispatcher = createSpiffeDispatcher({ source: clientSource, authorize: matchMemberOf('a.test') })
    cleanup.push(() => dispatcher.close())
    const err = await within(undiciFetch(`http://${HOST}:${port}/`, { dispatcher })).catch((e: unknown) => e)
    expect(codeOf(err)).toBe('ERR_OPTIONS_INVALID')
    expect(hits).toBe(0)
  })

  test('a source without a bundle list needs trustDomains', async () => {
    const bare = {
      getX509Svid: () => clientSource.getX509Svid(),
      getX509BundleForTrustDomain: clientSource.getX509BundleForTrustDomain.bind(clientSource),
    }
    expect(() => createMtlsClientConfig({ source: bare, authorize: matchMemberOf('a.test') })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    const { port } = await server()
    const agent = createSpiffeHttpsAgent({
      source: bare,
      authorize: matchMemberOf('a.test'),
      trustDomains: ['a.test'],
    })
    cleanup.push(async () => agent.destroy())
    expect((await httpsGet(port, { agent })).status).toBe(200)
  })

  test('options are validated eagerly', () => {
    expect(() => createMtlsClientConfig({ source: clientSource, authorize: 'x' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() =>
      createSpiffeDispatcher({
        source: clientSource,
        authorize: matchMemberOf('a.test'),
        connectTimeout: -1,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
    expect(() =>
      createMtlsClientConfig({ source: clientSource, authorize: matchMemberOf('a.test'), trustDomains: [] }),
    ).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  })

  test('contexts are cached by SVID and bundle identity', async () => {
    const client = createMtlsClientConfig({ source: clientSource, authorize: matchMemberOf('a.test') })
    const a = client.connectOptions().secureContext
    expect(client.connectOptions().secureContext).toBe(a)
    clientSource.update({ svid: clientSvid })
    // Same SVID object, same bundle objects (the set is new, its bundles are not): no rebuild.
    expect(client.connectOptions().secureContext).toBe(a)
    clientSource.update({ svid: await caA.issueX509Svid({ id: '/client' }) })
    expect(client.connectOptions().secureContext).not.toBe(a)
    clientSource.update({ svid: clientSvid })
  })
})
