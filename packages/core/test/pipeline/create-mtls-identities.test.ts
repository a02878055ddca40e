import { Agent, createServer, request } from 'node:https'
import type { AddressInfo } from 'node:net'
import { compileRoute, credentialsFromNodeRequest } from '@svidkit/core/adapter'
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

// mTLS alone and no authorizer: a connection's result is remembered for it, yet a route requirement
// is still decided on every request of that connection, and each connection gets its own answer.
test('mTLS only: one result per connection, route requirements still decided per request', async () => {
  const ca = await TestCA.create({ trustDomain: 'example.org' })
  const source = new StaticSource({
    svid: await ca.issueX509Svid({ id: '/server', dnsNames: ['localhost'] }),
    bundles: ca.bundleSet(),
  })
  const verifier = createCallerVerifier({ bundles: source, audit: false })
  const adminOnly = compileRoute({ callers: ['spiffe://example.org/admin'] }, verifier)
  const tls = createMtlsServerConfig({ source, authorize: matchMemberOf('example.org') })
  const results = new Map<string, unknown[]>()
  const server = tls.attach(
    createServer(tls.serverOptions, (req, res) => {
      try {
        const r = verifier.verifyCaller(
          credentialsFromNodeRequest(verifier, req),
          req.url === '/admin' ? adminOnly.verify : {},
        ) as { caller?: { spiffeId?: unknown } }
        const key = String(r.caller?.spiffeId)
        results.set(key, [...(results.get(key) ?? []), r])
        res.end(key)
      } catch (err) {
        const { status, body } = toHttpResponse(err)
        res.writeHead(status).end(body.code)
      }
    }),
  )
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const agentOf = async (id: string) => {
    const svid = await ca.issueX509Svid({ id })
    return new Agent({
      keepAlive: true,
      maxSockets: 1,
      key: svid.privateKeyPem,
      cert: svid.certificatesPem,
      ca: ca.x509Bundle().toPem(),
    })
  }
  const web = await agentOf('/web')
  const admin = await agentOf('/admin')
  const get = (agent: Agent, path: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', servername: 'localhost', port, path, agent }, (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve(`${res.statusCode} ${body}`))
      })
      req.on('error', reject)
      req.end()
    })
  try {
    const seq: string[] = []
    for (const path of ['/', '/', '/admin', '/']) seq.push(await get(web, path))
    for (const path of ['/admin', '/']) seq.push(await get(admin, path))
    expect(seq).toEqual([
      '200 spiffe://example.org/web',
      '200 spiffe://example.org/web',
      '403 ERR_ACCESS_DENIED',
      '200 spiffe://example.org/web',
      '200 spiffe://example.org/admin',
      '200 spiffe://example.org/admin',
    ])
    // The same frozen result for every unrequired request of one connection.
    const webResults = results.get('spiffe://example.org/web')!
    expect(webResults).toHaveLength(3)
    expect(new Set(webResults).size).toBe(1)
    expect(Object.isFrozen(webResults[0])).toBe(true)
  } finally {
    web.destroy()
    admin.destroy()
    await new Promise<void>((r) => server.close(() => r()))
  }
})
