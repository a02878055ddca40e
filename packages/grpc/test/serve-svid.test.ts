// serveSvid over real sockets: the SVID-owned listener in front of a real grpc-js server, with
// svidkit's channel credentials on the client side.
import { createRequire } from 'node:module'
import type { TLSSocket } from 'node:tls'
import { authorizeId, authorizeMemberOf } from '@svidkit/core/policy'
import { StaticSource } from '@svidkit/core/source'
import { type SvidListener, serveSvid, svidChannelCredentials, svidInterceptor } from '@svidkit/grpc'
import { TestCA } from '@svidkit/testing'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import {
  codeOfDetails,
  ECHO,
  type Events,
  echoClient,
  echoHandlers,
  grpc,
  HOST,
  serverStream,
  unary,
  within,
} from './helpers.js'

const SERVER = 'spiffe://example.org/orders'
const WEB = 'spiffe://example.org/web'

let ca: TestCA
let rogueCa: TestCA
let serverSource: StaticSource
let clientSource: StaticSource
const cleanup: (() => unknown)[] = []

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  rogueCa = await TestCA.create({ trustDomain: 'rogue.org' })
  serverSource = new StaticSource({ svid: await ca.issueX509Svid({ id: SERVER }), bundles: ca.bundleSet() })
  clientSource = new StaticSource({ svid: await ca.issueX509Svid({ id: WEB }), bundles: ca.bundleSet() })
})
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})
afterAll(async () => {
  await serverSource?.close()
  await clientSource?.close()
})

async function start(
  options: Partial<Parameters<typeof serveSvid>[1]> = {},
  events: Events = [],
): Promise<{ listener: SvidListener; server: grpc.Server; events: Events }> {
  const server = new grpc.Server({ interceptors: [svidInterceptor({ bundles: serverSource, audit: false })] })
  server.addService(ECHO, echoHandlers(events))
  const listener = await serveSvid(server, {
    address: `${HOST}:0`,
    source: serverSource,
    authorize: authorizeMemberOf('example.org'),
    ...options,
  })
  cleanup.push(
    () => listener.close({ graceMs: 0 }),
    () => server.forceShutdown(),
  )
  return { listener, server, events }
}

function clientFor(
  port: number,
  credentials = svidChannelCredentials({ source: clientSource, authorize: authorizeId(SERVER) }),
) {
  const client = echoClient(port, credentials)
  cleanup.push(() => client.close())
  return client
}

/** Channel credentials presenting a fixed certificate (not an svidkit source). */
function fixedCredentials(svid: { certificatesPem: string; privateKeyPem: string }) {
  return grpc.credentials.createSsl(
    Buffer.from(ca.certificate.toString()),
    Buffer.from(svid.privateKeyPem),
    Buffer.from(svid.certificatesPem),
    { checkServerIdentity: () => undefined },
  )
}

// A connection refused in the handshake: grpc-js ≥ 1.12 clients report 14 UNAVAILABLE; a 1.11 client
// reports 1 CANCELLED ("Call cancelled"), since with TLS 1.3 the server judges the client certificate
// after the client considers the handshake done, and the connection then drops under the call.
const HANDSHAKE_REFUSED =
  process.env.SVIDKIT_GRPC_JS === '1.11' ? grpc.status.CANCELLED : grpc.status.UNAVAILABLE

describe('serveSvid', () => {
  test('serves grpc-js over mTLS; the handler gets the caller verified in the handshake', async () => {
    const { listener, events } = await start()
    expect(listener.port).toBeGreaterThan(0)
    const r = await unary(clientFor(listener.port), { n: 1 })
    expect(r).toEqual({ ok: true, value: { caller: `${WEB} via mtls`, metadataCaller: `${WEB} via mtls` } })
    expect(events).toEqual(['unary:{"n":1}'])
  })

  test('negotiates ALPN h2 (grpc-go refuses connections without it)', async () => {
    const { listener } = await start()
    const sockets: TLSSocket[] = []
    listener.tlsServer.on('secureConnection', (s: TLSSocket) => sockets.push(s))
    await unary(clientFor(listener.port))
    expect(sockets.map((s) => s.alpnProtocol)).toEqual(['h2'])
  })

  test('a peer refused in the handshake never reaches grpc-js: 14 UNAVAILABLE, no handler', async () => {
    const { listener, events } = await start({ authorize: authorizeId('spiffe://example.org/admin') })
    const r = await unary(clientFor(listener.port))
    expect(r).toMatchObject({ ok: false, code: HANDSHAKE_REFUSED })
    expect(events).toEqual([])
  })

  test('a peer of a trust domain without a bundle is refused in the handshake', async () => {
    const { listener, events } = await start()
    const rogue = await rogueCa.issueX509Svid({ id: 'spiffe://rogue.org/web' })
    const r = await unary(clientFor(listener.port, fixedCredentials(rogue)))
    expect(r).toMatchObject({ ok: false, code: HANDSHAKE_REFUSED })
    expect(events).toEqual([])
  })

  test("clientCertificate 'requested': a bad certificate gets 16 with its reason, per call", async () => {
    const { listener, events } = await start({ clientCertificate: 'requested', authorize: undefined })
    const rogue = await rogueCa.issueX509Svid({ id: 'spiffe://rogue.org/web' })
    const r = await unary(clientFor(listener.port, fixedCredentials(rogue)))
    expect(r).toMatchObject({ ok: false, code: grpc.status.UNAUTHENTICATED })
    expect(codeOfDetails((r as { details: string }).details)).toBe('ERR_X509_SVID_NO_BUNDLE')
    expect(events).toEqual([])
  })

  test('the server certificate rotates for new connections, without a restart', async () => {
    const { listener } = await start()
    const seen: string[] = []
    const credentials = () =>
      svidChannelCredentials({
        source: clientSource,
        authorize: authorizeId(SERVER),
        onVerified: (peer) => seen.push(peer.certificate.serialNumber),
      })
    expect(await unary(clientFor(listener.port, credentials()))).toMatchObject({ ok: true })
    const before = serverSource.getX509Svid()
    serverSource.update({ svid: await ca.issueX509Svid({ id: SERVER }) })
    try {
      expect(await unary(clientFor(listener.port, credentials()))).toMatchObject({ ok: true })
      expect(seen).toHaveLength(2)
      expect(seen[1]).not.toBe(seen[0])
      expect(seen[1]).toBe(serverSource.getX509Svid().certificates[0]!.serialNumber)
    } finally {
      serverSource.update({ svid: before })
    }
  })

  test('a connection whose peer certificate expires is closed, and the expired peer is refused', async () => {
    const { listener, events } = await start()
    const shortLived = await ca.issueX509Svid({ id: WEB, notAfter: new Date(Date.now() + 2000) })
    const sockets: TLSSocket[] = []
    listener.tlsServer.on('secureConnection', (s: TLSSocket) => sockets.push(s))
    const client = clientFor(listener.port, fixedCredentials(shortLived))
    expect(await unary(client)).toMatchObject({ ok: true })
    expect(sockets).toHaveLength(1)
    await within(new Promise((resolve) => sockets[0]!.once('close', resolve)), 5000, 'expiry close')
    // Reconnecting with the now expired certificate fails in the handshake.
    const r = await unary(client)
    expect(r).toMatchObject({ ok: false, code: HANDSHAKE_REFUSED })
    expect(events).toEqual(['unary:{}'])
  })

  test('graceful close: a call in flight finishes, new connections are refused, close resolves', async () => {
    const events: Events = []
    const server = new grpc.Server()
    let release: () => void = () => {}
    const released = new Promise<void>((r) => {
      release = r
    })
    let started: () => void = () => {}
    const running = new Promise<void>((r) => {
      started = r
    })
    server.addService(ECHO, {
      ...echoHandlers(events),
      serverStream(call: grpc.ServerWritableStream<unknown, unknown>) {
        started()
        call.write({ i: 0 })
        void released.then(() => {
          call.write({ i: 1 })
          call.end()
        })
      },
    })
    const listener = await serveSvid(server, {
      address: `${HOST}:0`,
      source: serverSource,
      authorize: authorizeMemberOf('example.org'),
    })
    cleanup.push(() => server.forceShutdown())
    const client = clientFor(listener.port)
    const inFlight = serverStream(client)
    await within(running, 5000, 'the streaming call')
    const closed = listener.close({ graceMs: 3000 })
    release()
    expect(await inFlight).toEqual({ ok: true, value: [{ i: 0 }, { i: 1 }] })
    await within(closed, 5000, 'close')
    const late = await unary(clientFor(listener.port))
    expect(late).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE })
  })

  test('options are validated when serveSvid is called', async () => {
    const server = new grpc.Server()
    cleanup.push(() => server.forceShutdown())
    const base = { source: serverSource, authorize: authorizeMemberOf('example.org') }
    for (const address of ['nope', '127.0.0.1:99999', '']) {
      await expect(serveSvid(server, { ...base, address })).rejects.toMatchObject({
        code: 'ERR_OPTIONS_INVALID',
      })
    }
    await expect(
      serveSvid(server, { address: `${HOST}:0`, source: serverSource } as never),
    ).rejects.toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
    })
    await expect(serveSvid({} as grpc.Server, { ...base, address: `${HOST}:0` })).rejects.toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
    })
    const empty = new StaticSource({ bundles: ca.bundleSet() })
    await expect(
      serveSvid(server, { address: `${HOST}:0`, source: empty, authorize: base.authorize }),
    ).rejects.toMatchObject({
      code: 'ERR_SOURCE_NO_SVID',
    })
  })

  test.skipIf(process.env.SVIDKIT_GRPC_JS === '1.11')(
    'a Server from another copy of grpc-js is refused with a clear options error (grpc-node#1850)',
    async () => {
      const other = createRequire(import.meta.url)('grpc-js-1-11') as typeof grpc
      const server = new other.Server()
      cleanup.push(() => server.forceShutdown())
      await expect(
        serveSvid(server as unknown as grpc.Server, {
          address: `${HOST}:0`,
          source: serverSource,
          authorize: authorizeMemberOf('example.org'),
        }),
      ).rejects.toMatchObject({
        code: 'ERR_OPTIONS_INVALID',
        message: expect.stringContaining('another copy'),
      })
    },
  )
})

test('the grpc-js version under test', async () => {
  const { version } = (await import('@grpc/grpc-js/package.json', { with: { type: 'json' } })).default
  expect(version).toMatch(process.env.SVIDKIT_GRPC_JS === '1.11' ? /^1\.11\./ : /^1\.14\./)
  expect(grpc.Server.prototype.createConnectionInjector).toBeTypeOf('function')
})

test('a port in use is reported as the listen error, and the source keeps no listener of it', async () => {
  const server = new grpc.Server()
  const first = await serveSvid(server, {
    address: `${HOST}:0`,
    source: serverSource,
    authorize: authorizeMemberOf('example.org'),
  })
  // A source that counts its rotation listeners.
  let listeners = 0
  const counted = {
    getX509Svid: () => serverSource.getX509Svid(),
    getX509BundleForTrustDomain: (td: Parameters<StaticSource['getX509BundleForTrustDomain']>[0]) =>
      serverSource.getX509BundleForTrustDomain(td),
    on: () => {
      listeners++
    },
    off: () => {
      listeners--
    },
  }
  await expect(
    serveSvid(server, {
      address: `${HOST}:${first.port}`,
      source: counted,
      authorize: authorizeMemberOf('example.org'),
    }),
  ).rejects.toMatchObject({ code: 'EADDRINUSE' })
  await new Promise((r) => setImmediate(r))
  expect(listeners).toBe(0)
  await first.close({ graceMs: 0 })
  server.forceShutdown()
})
