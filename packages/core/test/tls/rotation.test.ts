import https from 'node:https'
import { X509Bundle } from '@svidkit/core/bundle'
import { StaticSource } from '@svidkit/core/source'
import { matchId } from '@svidkit/core/spiffe-id'
import {
  createMtlsServerConfig,
  createSpiffeDispatcher,
  createSpiffeHttpsAgent,
  getTlsCaller,
} from '@svidkit/core/tls'
import { TestCA, type TestX509Svid } from '@svidkit/testing'
import { fetch as undiciFetch } from 'undici'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { close, HOST, httpsGet, listen, sleep, within } from './helpers.js'

let caOld: TestCA
let caNew: TestCA
let srvOld: TestX509Svid
let srvNew: TestX509Svid
let cliOld: TestX509Svid
let cliNew: TestX509Svid
let serverSource: StaticSource
let clientSource: StaticSource
const cleanup: (() => Promise<void>)[] = []

const fp = (svid: TestX509Svid): string => svid.certificates[0]!.fingerprint256

beforeEach(async () => {
  // Two CAs of the same trust domain: the old one and its replacement (a CA rotation).
  caOld = await TestCA.create({ trustDomain: 'a.test' })
  caNew = await TestCA.create({ trustDomain: 'a.test' })
  srvOld = await caOld.issueX509Svid({ id: '/server' })
  srvNew = await caNew.issueX509Svid({ id: '/server' })
  cliOld = await caOld.issueX509Svid({ id: '/client' })
  cliNew = await caNew.issueX509Svid({ id: '/client' })
  const oldOnly = new X509Bundle('a.test', [caOld.certificate])
  serverSource = new StaticSource({ svid: srvOld, bundles: oldOnly })
  clientSource = new StaticSource({ svid: cliOld, bundles: oldOnly })
})

afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
  await serverSource.close()
  await clientSource.close()
})

async function startServer(closeEachConnection: boolean) {
  const mtls = createMtlsServerConfig({ source: serverSource, authorize: matchId('spiffe://a.test/client') })
  const seenClients: string[] = []
  const refusals: string[] = []
  const server = mtls.attach(
    https.createServer(mtls.serverOptions, (req, res) => {
      seenClients.push(getTlsCaller(req)!.certificate!.fingerprint256)
      if (closeEachConnection) res.setHeader('connection', 'close')
      res.end('ok')
    }),
  )
  server.on('tlsClientError', (err: Error & { code?: string }) => refusals.push(err.code ?? err.message))
  const port = await listen(server)
  cleanup.push(() => close(server))
  return { port, seenClients, refusals }
}

/**
 * Rotates in the order a CA rotation happens (new CA published first, then SVIDs, then the old CA
 * retired), each step once the client loop has done `at[i]` requests: concurrently with the loop.
 */
async function rotateDuring(
  done: () => number,
  at: readonly [number, number, number, number],
): Promise<void> {
  const until = async (n: number) => {
    while (done() < n) await sleep(2)
  }
  const both = new X509Bundle('a.test', [caOld.certificate, caNew.certificate])
  await until(at[0])
  serverSource.update({ bundles: both })
  clientSource.update({ bundles: both })
  await until(at[1])
  serverSource.update({ svid: srvNew })
  await until(at[2])
  clientSource.update({ svid: cliNew })
  await until(at[3])
  const newOnly = new X509Bundle('a.test', [caNew.certificate])
  serverSource.update({ bundles: newOnly })
  clientSource.update({ bundles: newOnly })
}

test('200 sequential requests over new connections (node:https) survive a CA + SVID rotation with zero failures', async () => {
  const { port, seenClients, refusals } = await startServer(false)
  const seenServers: string[] = []
  const agent = createSpiffeHttpsAgent({
    source: clientSource,
    authorize: matchId('spiffe://a.test/server'),
    keepAlive: false,
    onVerified: (peer) => seenServers.push(peer.certificate.fingerprint256),
  })
  cleanup.push(async () => agent.destroy())

  let done = 0
  const failures: unknown[] = []
  const rotation = rotateDuring(() => done, [40, 80, 120, 160])
  for (let i = 0; i < 200; i++) {
    try {
      const r = await httpsGet(port, { agent })
      if (r.status !== 200) failures.push(r.status)
    } catch (err) {
      failures.push(err)
    }
    done++
  }
  await within(rotation, 5000, 'rotation')

  expect(failures).toEqual([])
  expect(refusals).toEqual([])
  expect(seenServers).toHaveLength(200)
  expect(seenClients).toHaveLength(200)
  // Every connection saw exactly one switch, old → new, and the tail saw only the new certificates.
  const firstNewServer = seenServers.indexOf(fp(srvNew))
  const firstNewClient = seenClients.indexOf(fp(cliNew))
  expect(firstNewServer).toBeGreaterThanOrEqual(80)
  expect(firstNewClient).toBeGreaterThanOrEqual(120)
  expect(seenServers.slice(0, firstNewServer).every((f) => f === fp(srvOld))).toBe(true)
  expect(seenServers.slice(firstNewServer).every((f) => f === fp(srvNew))).toBe(true)
  expect(seenClients.slice(0, firstNewClient).every((f) => f === fp(cliOld))).toBe(true)
  expect(seenClients.slice(firstNewClient).every((f) => f === fp(cliNew))).toBe(true)
  expect(firstNewServer).toBeLessThan(120)
  expect(firstNewClient).toBeLessThan(160)
}, 60_000)

test('undici fetch over new connections survives the same rotation', async () => {
  const { port, seenClients, refusals } = await startServer(true)
  const seenServers: string[] = []
  const dispatcher = createSpiffeDispatcher({
    source: clientSource,
    authorize: matchId('spiffe://a.test/server'),
    onVerified: (peer) => seenServers.push(peer.certificate.fingerprint256),
  })
  cleanup.push(() => dispatcher.close())
  let done = 0
  const failures: unknown[] = []
  const rotation = rotateDuring(() => done, [20, 40, 60, 80])
  for (let i = 0; i < 100; i++) {
    try {
      const res = await within(undiciFetch(`https://${HOST}:${port}/`, { dispatcher }))
      if ((await res.text()) !== 'ok') failures.push(res.status)
    } catch (err) {
      failures.push(err)
    }
    done++
  }
  await within(rotation, 5000, 'rotation')
  expect(failures).toEqual([])
  expect(refusals).toEqual([])
  expect(seenServers.at(-1)).toBe(fp(srvNew))
  expect(seenClients.at(-1)).toBe(fp(cliNew))
  expect(seenServers[0]).toBe(fp(srvOld))
  expect(seenClients[0]).toBe(fp(cliOld))
}, 60_000)

test('a kept-alive connection is not dropped by a rotation', async () => {
  const { port, seenClients } = await startServer(false)
  const agent = createSpiffeHttpsAgent({ source: clientSource, authorize: matchId('spiffe://a.test/server') })
  cleanup.push(async () => agent.destroy())
  const sockets = new Set<unknown>()
  agent.on('free', (s) => sockets.add(s))
  expect((await httpsGet(port, { agent })).body).toBe('ok')
  const both = new X509Bundle('a.test', [caOld.certificate, caNew.certificate])
  serverSource.update({ svid: srvNew, bundles: both })
  clientSource.update({ svid: cliNew, bundles: both })
  expect((await httpsGet(port, { agent })).body).toBe('ok')
  expect(sockets.size).toBe(1)
  // The same connection, hence the identity it was verified with.
  expect(seenClients).toEqual([fp(cliOld), fp(cliOld)])
})
