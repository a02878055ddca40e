// Outside the table: both adapters behind core's createMtlsServerConfig, which verifies and
// authorizes the client in the handshake. A refused peer never reaches the framework (no status to
// assert, the connection is closed); an accepted one arrives with its caller already verified, which
// verifyCaller picks up (getTlsCaller) instead of reading the certificate again.
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { BundleSet } from '@svidkit/core/bundle'
import { StaticSource } from '@svidkit/core/source'
import { matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { svid } from '@svidkit/express'
import svidkit from '@svidkit/fastify'
import express from 'express'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { callerView, type RunningServer } from './harness/adapter.js'
import { send } from './harness/client.js'
import { createFixtures, type Fixtures, HOST, SELF, WEB } from './harness/fixtures.js'

let fx: Fixtures
let source: StaticSource
const servers: RunningServer[] = []

beforeAll(async () => {
  fx = await createFixtures()
  source = new StaticSource({
    svid: await fx.ca.issueX509Svid({ id: SELF, dnsNames: ['localhost'] }),
    bundles: new BundleSet([fx.ca.spiffeBundle(), fx.partnerCa.spiffeBundle()]),
  })
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await fx?.close()
})

type ClientCertificate = 'required' | 'optional'
const mtls = (clientCertificate: ClientCertificate) =>
  createMtlsServerConfig({ source, authorize: matchMemberOf('example.org'), clientCertificate })

const starters: Record<string, (c: ClientCertificate) => Promise<RunningServer>> = {
  async fastify(clientCertificate) {
    const config = mtls(clientCertificate)
    const app = Fastify({
      serverFactory: (handler) => config.attach(createServer(config.serverOptions, handler)),
    })
    await app.register(svidkit, { bundles: source, audit: false })
    app.get('/health', { config: { svid: { public: true } } }, () => ({ ok: true }))
    app.get('/whoami', (request) => ({ caller: callerView(request.caller) }))
    await app.listen({ host: HOST, port: 0 })
    const { port } = app.server.address() as AddressInfo
    return { url: `https://localhost:${port}`, close: () => app.close() }
  },
  async express(clientCertificate) {
    const config = mtls(clientCertificate)
    const app = express()
    app.get('/health', (_req, res) => {
      res.json({ ok: true })
    })
    app.use(svid({ bundles: source, audit: false }))
    app.get('/whoami', (req, res) => {
      res.json({ caller: callerView(req.caller) })
    })
    const server = config.attach(createServer(config.serverOptions, app))
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
    const { port } = server.address() as AddressInfo
    return {
      url: `https://localhost:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    }
  },
}

describe.each(Object.keys(starters))('%s behind createMtlsServerConfig', (name) => {
  let url: string
  beforeAll(async () => {
    const s = await starters[name]!('required')
    servers.push(s)
    url = s.url
  })

  test('an authorized peer reaches the handler as an mtls caller', async () => {
    // The server presents its own X.509-SVID (DNS SAN localhost), issued by the example.org CA.
    const r = await send(url, { path: '/whoami', certificate: fx.svids.web }, fx.serverTrust)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ caller: { id: WEB, channel: 'mtls' } })
  })

  test.each([
    ['a peer without a bundle', 'rogue'],
    ['a federated peer the TLS authorizer refuses', 'partner'],
    ['an expired SVID', 'expired'],
  ] as const)('%s is refused in the handshake', async (_label, which) => {
    await expect(
      send(url, { path: '/whoami', certificate: fx.svids[which] }, fx.serverTrust),
    ).rejects.toThrow()
  })

  test('a peer without a certificate is refused in the handshake', async () => {
    await expect(send(url, { path: '/whoami' }, fx.serverTrust)).rejects.toThrow()
  })
})

describe.each(Object.keys(starters))(
  "%s behind createMtlsServerConfig({ clientCertificate: 'optional' })",
  (name) => {
    let url: string
    beforeAll(async () => {
      const s = await starters[name]!('optional')
      servers.push(s)
      url = s.url
    })

    test('a public route answers a client without a certificate', async () => {
      const r = await send(url, { path: '/health' }, fx.serverTrust)
      expect(r).toMatchObject({ status: 200, body: { ok: true } })
    })

    test('a protected route still fails closed without a certificate', async () => {
      const r = await send(url, { path: '/whoami' }, fx.serverTrust)
      expect(r).toMatchObject({ status: 401, body: { code: 'ERR_CREDENTIALS_MISSING' } })
    })

    test('a valid peer is an mtls caller', async () => {
      const r = await send(url, { path: '/whoami', certificate: fx.svids.web }, fx.serverTrust)
      expect(r.body).toEqual({ caller: { id: WEB, channel: 'mtls' } })
    })

    test.each(['rogue', 'partner', 'expired'] as const)(
      'an invalid certificate (%s) is still refused in the handshake, even for the public route',
      async (which) => {
        await expect(
          send(url, { path: '/health', certificate: fx.svids[which] }, fx.serverTrust),
        ).rejects.toThrow()
      },
    )
  },
)
