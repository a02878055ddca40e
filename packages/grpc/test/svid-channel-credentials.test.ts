// svidChannelCredentials against a real grpc-js server on an SVID listener: the server's SPIFFE ID is
// authorized instead of a hostname, and new connections present the client's current SVID.
import { authorizeId, authorizeMemberOf } from '@svidkit/core/policy'
import { StaticSource } from '@svidkit/core/source'
import type { TlsPeer } from '@svidkit/core/tls'
import { serveSvid, svidChannelCredentials, svidInterceptor } from '@svidkit/grpc'
import { TestCA } from '@svidkit/testing'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { ECHO, type Events, echoClient, echoHandlers, grpc, HOST, unary } from './helpers.js'

const SERVER = 'spiffe://example.org/orders'
const WEB = 'spiffe://example.org/web'

let ca: TestCA
let serverSource: StaticSource
let clientSource: StaticSource
let port: number
const events: Events = []
const cleanup: (() => unknown)[] = []
const seenByServer: string[] = []

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  serverSource = new StaticSource({ svid: await ca.issueX509Svid({ id: SERVER }), bundles: ca.bundleSet() })
  clientSource = new StaticSource({ svid: await ca.issueX509Svid({ id: WEB }), bundles: ca.bundleSet() })
  const server = new grpc.Server({ interceptors: [svidInterceptor({ bundles: serverSource, audit: false })] })
  server.addService(ECHO, echoHandlers(events))
  const listener = await serveSvid(server, {
    address: `${HOST}:0`,
    source: serverSource,
    authorize: (peer: TlsPeer) => {
      seenByServer.push(peer.certificate.serialNumber)
    },
  })
  port = listener.port
  cleanup.push(
    () => listener.close({ graceMs: 0 }),
    () => server.forceShutdown(),
  )
})
afterEach(() => {
  events.length = 0
})
afterAll(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
  await serverSource?.close()
  await clientSource?.close()
})

function client(credentials: grpc.ChannelCredentials, host = HOST) {
  const c = echoClient(port, credentials, host)
  cleanup.push(() => c.close())
  return c
}

test('authorizes the server by SPIFFE ID, whatever the target host is', async () => {
  const credentials = svidChannelCredentials({ source: clientSource, authorize: authorizeId(SERVER) })
  // The server certificate has no DNS or IP SAN: only the SPIFFE ID is checked.
  expect(await unary(client(credentials))).toMatchObject({ ok: true, value: { caller: `${WEB} via mtls` } })
  expect(await unary(client(credentials, 'localhost'))).toMatchObject({ ok: true })
})

test('a server with another SPIFFE ID is refused before any call byte is sent: 14, no handler', async () => {
  const credentials = svidChannelCredentials({
    source: clientSource,
    authorize: authorizeId('spiffe://example.org/billing'),
  })
  const r = await unary(client(credentials))
  expect(r).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE })
  expect(events).toEqual([])
})

test('a server outside the trust domains the client trusts is refused', async () => {
  const other = await TestCA.create({ trustDomain: 'other.org' })
  const source = new StaticSource({
    svid: await other.issueX509Svid({ id: '/web' }),
    bundles: other.bundleSet(),
  })
  const credentials = svidChannelCredentials({ source, authorize: authorizeMemberOf('example.org') })
  expect(await unary(client(credentials))).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE })
  await source.close()
})

test('rotation: a new connection presents the SVID the source holds then, with the same credentials', async () => {
  const credentials = svidChannelCredentials({ source: clientSource, authorize: authorizeId(SERVER) })
  seenByServer.length = 0
  expect(await unary(client(credentials))).toMatchObject({ ok: true })
  const rotated = await ca.issueX509Svid({ id: WEB })
  clientSource.update({ svid: rotated })
  expect(await unary(client(credentials))).toMatchObject({ ok: true })
  expect(seenByServer).toEqual([expect.any(String), rotated.certificates[0]!.serialNumber])
  expect(seenByServer[0]).not.toBe(seenByServer[1])
})

test('a source without an SVID fails the connection, never sends without a certificate', async () => {
  const empty = new StaticSource({ bundles: ca.bundleSet() })
  const credentials = svidChannelCredentials({ source: empty, authorize: authorizeId(SERVER) })
  expect(await unary(client(credentials))).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE })
  expect(events).toEqual([])
  await empty.close()
})

test('options are validated when the credentials are created', () => {
  expect(() => svidChannelCredentials({ source: clientSource } as never)).toThrow(
    expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
  )
  expect(() => svidChannelCredentials({ source: {}, authorize: authorizeId(SERVER) } as never)).toThrow(
    expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
  )
})
