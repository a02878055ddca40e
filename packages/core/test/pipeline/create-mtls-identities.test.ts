import { Agent, createServer, request } from 'node:https'
import type { AddressInfo } from 'node:net'
import { credentialsFromNodeRequest } from '@svidkit/core/adapter'
import { createCallerVerifier } from '@svidkit/core/caller'
import { toHttpResponse } from '@svidkit/core/errors'
import { StaticSource } from '@svidkit/core/source'
import { matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { TestCA } from '@svidkit/testing'
import { expect, test } from 'vitest'

// A peer verified at the handshake keeps its connection, but not past its certificate's expiry:
// verifyCaller refuses requests on a kept-alive connection once the certificate has expired.
test('a kept-alive connection is refused once the peer certificate has expired', async () => {
  const ca = await TestCA.create({ trustDomain: 'example.org' })
  const source = new StaticSource({
    svid: await ca.issueX509Svid({ id: '/server', dnsNames: ['localhost'] }),
    bundles: ca.bundleSet(),
  })
  const client = await ca.issueX509Svid({ id: '/client', notAfter: new Date(Date.now() + 1500) })
  const verifier = createCallerVerifier({ bundles: source, audit: false })
  const tls = createMtlsServerConfig({ source, authorize: matchMemberOf('example.org') })
  const server = tls.attach(
    createServer(tls.serverOptions, (req, res) => {
      try {
        const r = verifier.verifyCaller(credentialsFromNodeRequest(verifier, req)) as {
          caller?: { spiffeId?: unknown }
        }
        res.end(String(r.caller?.spiffeId))
      } catch (err) {
        const { status, body } = toHttpResponse(err)
        res.writeHead(status).end(body.code)
      }
    }),
  )
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 1,
    key: client.privateKeyPem,
    cert: client.certificatesPem,
    ca: ca.x509Bundle().toPem(),
  })
  const sockets = new Set<unknown>()
  const get = () =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', servername: 'localhost', port, path: '/', agent }, (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('socket', (s) => sockets.add(s))
      req.on('error', reject)
      req.end()
    })
  try {
    expect(await get()).toEqual({ status: 200, body: 'spiffe://example.org/client' })
    await new Promise((r) => setTimeout(r, client.expiresAt.getTime() - Date.now() + 300))
    expect(await get()).toEqual({ status: 401, body: 'ERR_X509_SVID_EXPIRED' })
    expect(sockets.size).toBe(1) // the same connection
  } finally {
    agent.destroy()
    await new Promise<void>((r) => server.close(() => r()))
  }
})
