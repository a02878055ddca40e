import http2 from 'node:http2'
import https from 'node:https'
import tls from 'node:tls'
import { memorySink } from '@svidkit/core/audit'
import { X509Bundle } from '@svidkit/core/bundle'
import type { SpiffeCaller } from '@svidkit/core/caller'
import type { SvidkitError } from '@svidkit/core/errors'
import {
  type AuthorizationInput,
  authorizeAny,
  authorizeMemberOf,
  authorizeOneOf,
  createPolicyAuthorizer,
  definePolicy,
} from '@svidkit/core/policy'
import { StaticSource } from '@svidkit/core/source'
import { matchMemberOf, matchOneOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig, getTlsCaller, type TlsPeer } from '@svidkit/core/tls'
import { codeOf, TestCA, type TestX509Svid } from '@svidkit/testing'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import {
  close,
  HOST,
  listen,
  nextClientError,
  type RawClient,
  rawHttpsGet,
  sleep,
  within,
} from './helpers.js'

let caA: TestCA
let caB: TestCA
let serverSvid: TestX509Svid
let clientA: TestX509Svid
let clientB: TestX509Svid
let source: StaticSource
const cleanup: (() => Promise<void>)[] = []

const asClient = (svid: TestX509Svid, ca: TestCA = caA): RawClient => ({
  key: svid.privateKeyPem,
  cert: svid.certificatesPem,
  ca: ca.certificate.toString(),
})

function describeCaller(c: SpiffeCaller | undefined): Record<string, unknown> | null {
  if (!c) return null
  return {
    channel: c.channel,
    spiffeId: c.spiffeId.toString(),
    trustDomain: c.trustDomain.name,
    captures: c.captures,
    scopes: c.scopes,
    claims: c.claims ?? null,
    fingerprint: c.certificate?.fingerprint256,
    expiresAt: c.expiresAt?.toISOString(),
  }
}

beforeAll(async () => {
  caA = await TestCA.create({ trustDomain: 'a.test' })
  caB = await TestCA.create({ trustDomain: 'b.test' })
  serverSvid = await caA.issueX509Svid({ id: '/server' })
  clientA = await caA.issueX509Svid({ id: '/client' })
  clientB = await caB.issueX509Svid({ id: '/client' })
  source = new StaticSource({ svid: serverSvid, bundles: [caA.x509Bundle(), caB.x509Bundle()] })
})

afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})

afterAll(async () => {
  await source.close()
})

/** An https server that answers with the verified caller, counting handled requests. */
async function httpsServer(options: Partial<Parameters<typeof createMtlsServerConfig>[0]> = {}) {
  const mtls = createMtlsServerConfig({
    source,
    authorize: matchOneOf('spiffe://a.test/client', 'spiffe://b.test/client'),
    identityTemplate: '/{role}',
    ...options,
  })
  let handled = 0
  const server = mtls.attach(
    https.createServer(mtls.serverOptions, (req, res) => {
      handled++
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(describeCaller(getTlsCaller(req))))
    }),
  )
  const port = await listen(server)
  cleanup.push(() => close(server))
  return { server, port, handled: () => handled }
}

describe("clientCertificate: 'requested'", () => {
  test('every peer is delivered, with or without a certificate; nothing is judged in the handshake', async () => {
    const { port, handled } = await httpsServer({ clientCertificate: 'requested', authorize: undefined })
    const caC = await TestCA.create({ trustDomain: 'c.test' })
    // The handler reports no TLS caller: verification is left to the request (verifyCaller).
    expect(await rawHttpsGet(port, asClient(clientA))).toEqual({ status: 200, body: 'null' })
    expect(await rawHttpsGet(port, { ca: caA.certificate.toString() })).toEqual({ status: 200, body: 'null' })
    expect((await rawHttpsGet(port, asClient(await caC.issueX509Svid({ id: '/x' })))).status).toBe(200)
    expect(handled()).toBe(3)
  })

  test('the SVID is still served and rotated; authorize is not required; other values are refused', async () => {
    const { port } = await httpsServer({ clientCertificate: 'requested', authorize: undefined })
    let served: string | undefined
    await rawHttpsGet(port, asClient(clientA), {
      checkServerIdentity: (_h, cert) => {
        served = cert.subjectaltname
        return undefined
      },
    })
    expect(served).toBe('URI:spiffe://a.test/server')
    expect(() => createMtlsServerConfig({ source, clientCertificate: 'sometimes' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => createMtlsServerConfig({ source })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})

describe('mTLS server: who may connect', () => {
  test('an authorized peer passes and its Caller reaches the handler', async () => {
    const { port } = await httpsServer()
    const reply = await rawHttpsGet(port, asClient(clientA))
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body)).toEqual({
      channel: 'mtls',
      spiffeId: 'spiffe://a.test/client',
      trustDomain: 'a.test',
      captures: { role: 'client' },
      scopes: [],
      claims: null,
      fingerprint: clientA.certificates[0]!.fingerprint256,
      expiresAt: new Date(clientA.certificates[0]!.validTo).toISOString(),
    })
  })

  test('getTlsCaller: one frozen caller per connection, reachable from the socket, the request or a wrapper', async () => {
    const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('a.test') })
    const seen: boolean[] = []
    const server = mtls.attach(
      https.createServer(mtls.serverOptions, (req, res) => {
        const c = getTlsCaller(req)
        seen.push(
          c !== undefined &&
            Object.isFrozen(c) &&
            getTlsCaller(req.socket) === c &&
            getTlsCaller({ raw: req }) === c &&
            getTlsCaller({}) === undefined &&
            getTlsCaller(null) === undefined,
        )
        res.end()
      }),
    )
    const port = await listen(server)
    cleanup.push(() => close(server))
    await rawHttpsGet(port, asClient(clientA))
    expect(seen).toEqual([true])
  })

  test('without an identity template, captures are {}', async () => {
    const { port } = await httpsServer({ identityTemplate: undefined })
    const reply = await rawHttpsGet(port, asClient(clientA))
    expect(JSON.parse(reply.body).captures).toEqual({})
  })

  test('a wrong ID is refused before any request is handled', async () => {
    const { server, port, handled } = await httpsServer()
    const intruder = await caA.issueX509Svid({ id: '/intruder' })
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(intruder))).rejects.toThrow()
    const err = await refused
    expect(codeOf(err)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    expect(err.message).toContain('spiffe://a.test/intruder')
    expect(handled()).toBe(0)
  })

  test('a peer without a client certificate is refused', async () => {
    const { server, port, handled } = await httpsServer()
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, { ca: caA.certificate.toString() })).rejects.toThrow()
    expect(codeOf(await refused)).toBe('ERR_TLS_NO_PEER_CERTIFICATE')
    expect(handled()).toBe(0)
  })

  test("clientCertificate: 'optional' serves a peer without a certificate, with no caller", async () => {
    const { port, handled } = await httpsServer({ clientCertificate: 'optional' })
    const anonymous = await rawHttpsGet(port, { ca: caA.certificate.toString() })
    expect(anonymous.status).toBe(200)
    expect(JSON.parse(anonymous.body)).toBeNull()
    const verified = await rawHttpsGet(port, asClient(clientA))
    expect(JSON.parse(verified.body)).toMatchObject({ spiffeId: 'spiffe://a.test/client' })
    expect(handled()).toBe(2)
  })

  test("clientCertificate: 'optional' still refuses a certificate that fails, in the handshake", async () => {
    const { server, port, handled } = await httpsServer({ clientCertificate: 'optional' })
    const intruder = await caA.issueX509Svid({ id: '/intruder' })
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(intruder))).rejects.toThrow()
    expect(codeOf(await refused)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    const rogue = await TestCA.create({ trustDomain: 'rogue.test' })
    const stranger = await rogue.issueX509Svid({ id: '/client' })
    const refusedAgain = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(stranger))).rejects.toThrow()
    expect(codeOf(await refusedAgain)).toBe('ERR_X509_SVID_NO_BUNDLE')
    expect(handled()).toBe(0)
  })

  test('clientCertificate is validated', () => {
    expect(() =>
      createMtlsServerConfig({
        source,
        authorize: matchMemberOf('a.test'),
        clientCertificate: 'maybe' as never,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  })

  test('a peer from a federated trust domain is accepted with its own bundle', async () => {
    const { port } = await httpsServer()
    const reply = await rawHttpsGet(port, asClient(clientB))
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body)).toMatchObject({
      spiffeId: 'spiffe://b.test/client',
      trustDomain: 'b.test',
    })
  })

  test("a trust domain's CA cannot vouch for another trust domain's IDs, even with its CA in the pool", async () => {
    const { server, port, handled } = await httpsServer({ authorize: matchMemberOf('a.test') })
    // b.test's CA (trusted, for b.test) issues an SVID claiming an a.test ID.
    const forged = await caB.issueX509Svid({ id: 'spiffe://a.test/client' })
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(forged))).rejects.toThrow()
    expect(codeOf(await refused)).toBe('ERR_X509_SVID_UNTRUSTED')
    expect(handled()).toBe(0)
  })

  test('a peer from a trust domain without a bundle is refused', async () => {
    const caC = await TestCA.create({ trustDomain: 'c.test' })
    const { server, port } = await httpsServer({ authorize: () => undefined })
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(await caC.issueX509Svid({ id: '/client' })))).rejects.toThrow()
    expect(codeOf(await refused)).toBe('ERR_X509_SVID_NO_BUNDLE')
  })

  test('an expired peer certificate is refused', async () => {
    const { server, port, handled } = await httpsServer()
    const expired = await caA.issueX509Svid({
      id: '/client',
      notBefore: new Date(Date.now() - 7200_000),
      notAfter: new Date(Date.now() - 3600_000),
    })
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(expired))).rejects.toThrow()
    expect(codeOf(await refused)).toBe('ERR_X509_SVID_EXPIRED')
    expect(handled()).toBe(0)
  })

  test('a chain through an intermediate CA verifies (intermediates read from the socket)', async () => {
    const inter = await caA.createIntermediate()
    const viaIntermediate = await inter.issueX509Svid({ id: '/client' })
    const { port } = await httpsServer()
    const reply = await rawHttpsGet(port, asClient(viaIntermediate))
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body).spiffeId).toBe('spiffe://a.test/client')
  })

  test('a function authorizer sees the verified peer and refuses by throwing', async () => {
    const seen: TlsPeer[] = []
    const { server, port } = await httpsServer({
      authorize: (peer) => {
        seen.push(peer)
        if (peer.trustDomain.name !== 'b.test') throw new Error('only b.test')
      },
    })
    expect((await rawHttpsGet(port, asClient(clientB))).status).toBe(200)
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(clientA))).rejects.toThrow()
    const err = await refused
    expect(codeOf(err)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    expect((err.cause as Error).message).toBe('only b.test')
    expect(seen.map((p) => [p.role, p.id.toString(), p.chain.length, p.captures])).toEqual([
      ['client', 'spiffe://b.test/client', 2, { role: 'client' }],
      ['client', 'spiffe://a.test/client', 2, { role: 'client' }],
    ])
  })

  test('policy function authorizers (authorizeMemberOf, authorizeOneOf, authorizeAny) decide', async () => {
    const member = await httpsServer({ authorize: authorizeMemberOf('b.test') })
    expect((await rawHttpsGet(member.port, asClient(clientB))).status).toBe(200)
    const refused = nextClientError(member.server)
    await expect(rawHttpsGet(member.port, asClient(clientA))).rejects.toThrow()
    const err = await refused
    expect(codeOf(err)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    expect(err.message).toContain('spiffe://a.test/client')

    const oneOf = await httpsServer({ authorize: authorizeOneOf('spiffe://a.test/client') })
    expect((await rawHttpsGet(oneOf.port, asClient(clientA))).status).toBe(200)
    const any = await httpsServer({ authorize: authorizeAny() })
    expect((await rawHttpsGet(any.port, asClient(clientB))).status).toBe(200)
  })

  test('a SyncAuthorizer gets the mTLS caller, self and a connection operation; a deny carries its rule', async () => {
    const inputs: AuthorizationInput[] = []
    const { server, port } = await httpsServer({
      authorize: {
        authorize: (input) => {
          inputs.push(input)
          return input.caller.trustDomain?.name === 'a.test'
            ? { decision: 'allow', rule: 'same-td', reason: 'same trust domain', audit: [] }
            : { decision: 'deny', rule: 'same-td', reason: 'other trust domain', audit: [] }
        },
      },
    })
    expect((await rawHttpsGet(port, asClient(clientA))).status).toBe(200)
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(clientB))).rejects.toThrow()
    const err = (await refused) as SvidkitError
    expect(err.code).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    expect(err.details).toMatchObject({ peer: 'spiffe://b.test/client', rule: 'same-td' })
    expect(
      inputs.map((i) => [i.caller.channel, i.caller.spiffeId?.toString(), i.self?.toString(), i.operation]),
    ).toEqual([
      ['mtls', 'spiffe://a.test/client', 'spiffe://a.test/server', { kind: 'connection' }],
      ['mtls', 'spiffe://b.test/client', 'spiffe://a.test/server', { kind: 'connection' }],
    ])
  })

  test('handshake decisions go through the audit chain: one event per connection, operation "connection"', async () => {
    const sink = memorySink()
    const { server, port } = await httpsServer({
      authorize: matchOneOf('spiffe://a.test/client'),
      audit: { sink },
    })
    expect((await rawHttpsGet(port, asClient(clientA))).status).toBe(200)
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(clientB))).rejects.toThrow()
    await refused
    expect(sink.events.map((e) => [e.caller, e.decision, e.operation])).toEqual([
      ['spiffe://a.test/client', 'allow', { kind: 'connection' }],
      ['spiffe://b.test/client', 'deny', { kind: 'connection' }],
    ])
  })

  test('a policy decides connections with its rules that have no "to"', async () => {
    const policy = createPolicyAuthorizer(
      definePolicy({
        rules: [
          { id: 'no-b', action: 'DENY', from: [{ trustDomains: ['b.test'] }] },
          { id: 'orders', from: [{ trustDomains: ['a.test'] }], to: [{ paths: ['/orders'] }] },
          { id: 'a', from: [{ trustDomains: ['a.test'] }] },
        ],
      }),
    )
    const { server, port } = await httpsServer({ authorize: policy })
    expect((await rawHttpsGet(port, asClient(clientA))).status).toBe(200)
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(clientB))).rejects.toThrow()
    expect(((await refused) as SvidkitError).details).toMatchObject({ rule: 'no-b' })
  })

  test('a function authorizer returning false refuses', async () => {
    const { server, port } = await httpsServer({ authorize: () => false })
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(clientA))).rejects.toThrow()
    expect(codeOf(await refused)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
  })

  test('an async authorizer refuses (fail closed): the handshake path cannot await', async () => {
    const { server, port } = await httpsServer({ authorize: async () => true })
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(clientA))).rejects.toThrow()
    const err = await refused
    expect(codeOf(err)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    expect(err.message).toContain('Promise')
  })

  test('TLS session resumption is never used (each connection is verified with its full chain)', async () => {
    const { port } = await httpsServer()
    let session: Buffer | undefined
    const reused: boolean[] = []
    for (let i = 0; i < 3; i++) {
      await within(
        new Promise<void>((resolve, reject) => {
          const s = tls.connect({
            host: HOST,
            port,
            ...asClient(clientA),
            checkServerIdentity: () => undefined,
            ...(session ? { session } : {}),
          })
          s.on('session', (x: Buffer) => {
            session = x
          })
          s.once('secureConnect', () => {
            reused.push(s.isSessionReused())
            s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
          })
          s.on('data', () => {})
          s.on('close', () => resolve())
          s.on('error', reject)
        }),
      )
    }
    expect(reused).toEqual([false, false, false])
  })
})

describe('mTLS server: TLS versions', () => {
  test('a default connection negotiates TLS 1.3', async () => {
    let protocol: string | null = null
    const { port } = await httpsServer()
    await rawHttpsGet(port, asClient(clientA), {
      agent: new https.Agent({ keepAlive: false }),
    }).then(() => undefined)
    await within(
      new Promise<void>((resolve, reject) => {
        const s = tls.connect({
          host: HOST,
          port,
          ...asClient(clientA),
          checkServerIdentity: () => undefined,
        })
        s.once('secureConnect', () => {
          protocol = s.getProtocol()
          s.destroy()
          resolve()
        })
        s.on('error', reject)
      }),
    )
    expect(protocol).toBe('TLSv1.3')
  })

  test('TLS 1.2 is accepted; a TLS 1.1-only client is refused by the server', async () => {
    const { server, port } = await httpsServer()
    const r12 = await rawHttpsGet(port, asClient(clientA), { maxVersion: 'TLSv1.2' })
    expect(r12.status).toBe(200)
    const refused = nextClientError(server)
    await expect(
      rawHttpsGet(port, asClient(clientA), {
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        // Let this client's own OpenSSL offer TLS 1.1, so the refusal is the server's.
        ciphers: 'DEFAULT@SECLEVEL=0',
      }),
    ).rejects.toThrow()
    const err = await refused
    expect(err.message).toMatch(/unsupported protocol|version/i)
  })

  test('minVersion TLSv1.3 refuses TLS 1.2', async () => {
    const { port } = await httpsServer({ minVersion: 'TLSv1.3' })
    await expect(rawHttpsGet(port, asClient(clientA), { maxVersion: 'TLSv1.2' })).rejects.toThrow()
    expect((await rawHttpsGet(port, asClient(clientA))).status).toBe(200)
  })

  test('minVersion below TLS 1.2 is an options error', () => {
    expect(() =>
      createMtlsServerConfig({ source, authorize: matchMemberOf('a.test'), minVersion: 'TLSv1.1' as never }),
    ).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  })
})

describe('mTLS server: node:tls, node:https and node:http2', () => {
  test('node:tls server: getTlsCaller(socket) in the secureConnection listener', async () => {
    const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('a.test') })
    const server = mtls.attach(
      tls.createServer(mtls.serverOptions, (socket) => {
        socket.end(`hello ${getTlsCaller(socket)?.spiffeId}`)
      }),
    )
    server.on('tlsClientError', () => {})
    const port = await listen(server)
    cleanup.push(() => close(server))
    const text = await within(
      new Promise<string>((resolve, reject) => {
        let out = ''
        const s = tls.connect({
          host: HOST,
          port,
          ...asClient(clientA),
          checkServerIdentity: () => undefined,
        })
        s.setEncoding('utf8')
        s.on('data', (d: string) => {
          out += d
        })
        s.on('end', () => resolve(out))
        s.on('error', reject)
      }),
    )
    expect(text).toBe('hello spiffe://a.test/client')
  })

  test('node:http2 secure server with allowHTTP1: h2 and HTTP/1.1 requests both see the caller', async () => {
    const mtls = createMtlsServerConfig({ source, authorize: matchOneOf('spiffe://a.test/client') })
    let handled = 0
    const server = mtls.attach(
      http2.createSecureServer({ ...mtls.serverOptions, allowHTTP1: true }, (req, res) => {
        handled++
        res.end(`${req.httpVersion} ${getTlsCaller(req)?.spiffeId} ${getTlsCaller(req.socket)?.spiffeId}`)
      }),
    )
    const port = await listen(server)
    cleanup.push(() => close(server))

    const h1 = await rawHttpsGet(port, asClient(clientA))
    expect(h1.body).toBe('1.1 spiffe://a.test/client spiffe://a.test/client')

    const client = http2.connect(`https://${HOST}:${port}`, {
      ...asClient(clientA),
      checkServerIdentity: () => undefined,
    })
    client.on('error', () => {})
    try {
      const h2 = await within(
        new Promise<string>((resolve, reject) => {
          const req = client.request({ ':path': '/' })
          let body = ''
          req.setEncoding('utf8')
          req.on('data', (d: string) => {
            body += d
          })
          req.on('end', () => resolve(body))
          req.on('error', reject)
          req.end()
        }),
      )
      expect(h2).toBe('2.0 spiffe://a.test/client spiffe://a.test/client')
    } finally {
      client.close()
    }

    // A refused h2 peer never gets a session.
    const intruder = await caA.issueX509Svid({ id: '/intruder' })
    const refused = nextClientError(server)
    const bad = http2.connect(`https://${HOST}:${port}`, {
      ...asClient(intruder),
      checkServerIdentity: () => undefined,
    })
    const badResult = within(
      new Promise<string>((resolve) => {
        bad.on('error', (e) => resolve(`error ${e.message}`))
        bad.on('close', () => resolve('closed'))
        const req = bad.request({ ':path': '/' })
        req.on('error', () => {})
        req.end()
      }),
    )
    expect(codeOf(await refused)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    await badResult
    bad.destroy()
    expect(handled).toBe(2)
  })
})

describe('mTLS server: attach() and options', () => {
  test('options are validated eagerly', () => {
    expect(() => createMtlsServerConfig({ source, authorize: undefined as never })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => createMtlsServerConfig({ source: {} as never, authorize: matchMemberOf('a.test') })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() =>
      createMtlsServerConfig({
        source,
        authorize: matchMemberOf('a.test'),
        secureContextOptions: { ca: 'x' },
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  })

  test('attach() refuses a server that lets OpenSSL decide, or does not request a certificate', () => {
    const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('a.test') })
    expect(() => mtls.attach(https.createServer({ requestCert: true }))).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => mtls.attach(https.createServer({}))).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    const server = mtls.attach(https.createServer(mtls.serverOptions))
    expect(() => mtls.attach(server)).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  })

  test('attach() throws when the source has no SVID', async () => {
    const empty = new StaticSource({ bundles: caA.x509Bundle() })
    const mtls = createMtlsServerConfig({ source: empty, authorize: matchMemberOf('a.test') })
    expect(() => mtls.attach(https.createServer(mtls.serverOptions))).toThrow(
      expect.objectContaining({ code: 'ERR_SOURCE_NO_SVID' }),
    )
    await empty.close()
  })

  test('a server created with serverOptions but never attached fails closed (no certificate)', async () => {
    const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('a.test') })
    let handled = 0
    const server = https.createServer(mtls.serverOptions, (_req, res) => {
      handled++
      res.end()
    })
    server.on('tlsClientError', () => {})
    const port = await listen(server)
    cleanup.push(() => close(server))
    await expect(rawHttpsGet(port, asClient(clientA))).rejects.toThrow()
    expect(handled).toBe(0)
  })

  test('a rotated SVID is used by the very next connection, even without update events', async () => {
    // A source without on(): only the prepended 'connection' listener can notice the rotation.
    const inner = new StaticSource({ svid: serverSvid, bundles: caA.x509Bundle() })
    const quiet = {
      getX509Svid: () => inner.getX509Svid(),
      getX509BundleForTrustDomain: (td: Parameters<typeof inner.getX509BundleForTrustDomain>[0]) =>
        inner.getX509BundleForTrustDomain(td),
    }
    const mtls = createMtlsServerConfig({ source: quiet, authorize: matchMemberOf('a.test') })
    const server = mtls.attach(https.createServer(mtls.serverOptions, (_req, res) => res.end('ok')))
    const port = await listen(server)
    cleanup.push(async () => {
      await close(server)
      await inner.close()
    })
    const servedLeaf = () =>
      within(
        new Promise<string>((resolve, reject) => {
          const s = tls.connect({
            host: HOST,
            port,
            ...asClient(clientA),
            checkServerIdentity: () => undefined,
          })
          s.once('secureConnect', () => {
            resolve(s.getPeerX509Certificate()!.fingerprint256)
            s.destroy()
          })
          s.on('error', reject)
        }),
      )
    expect(await servedLeaf()).toBe(serverSvid.certificates[0]!.fingerprint256)
    const rotated = await caA.issueX509Svid({ id: '/server' })
    inner.update({ svid: rotated })
    expect(await servedLeaf()).toBe(rotated.certificates[0]!.fingerprint256)
  })

  test('an SVID that cannot be served keeps the previous certificate and reports once', async () => {
    const inner = new StaticSource({ svid: serverSvid, bundles: caA.x509Bundle() })
    const errors: string[] = []
    const mtls = createMtlsServerConfig({
      source: inner,
      authorize: matchMemberOf('a.test'),
      onError: (e) => errors.push(codeOf(e) ?? e.message),
    })
    const server = mtls.attach(https.createServer(mtls.serverOptions, (_req, res) => res.end('ok')))
    const port = await listen(server)
    cleanup.push(async () => {
      await close(server)
      await inner.close()
    })
    inner.update({ svid: null })
    expect((await rawHttpsGet(port, asClient(clientA))).body).toBe('ok')
    expect(errors[0]).toBe('ERR_SOURCE_NO_SVID')
    await sleep(1)
  })

  test('bundles are read per handshake: a trust domain removed from the source is refused next time', async () => {
    const inner = new StaticSource({ svid: serverSvid, bundles: [caA.x509Bundle(), caB.x509Bundle()] })
    const mtls = createMtlsServerConfig({ source: inner, authorize: () => undefined })
    const server = mtls.attach(https.createServer(mtls.serverOptions, (_req, res) => res.end('ok')))
    const port = await listen(server)
    cleanup.push(async () => {
      await close(server)
      await inner.close()
    })
    expect((await rawHttpsGet(port, asClient(clientB))).body).toBe('ok')
    inner.update({ bundles: [caA.x509Bundle()] })
    const refused = nextClientError(server)
    await expect(rawHttpsGet(port, asClient(clientB))).rejects.toThrow()
    expect(codeOf(await refused)).toBe('ERR_X509_SVID_NO_BUNDLE')
    inner.update({ bundles: [caA.x509Bundle(), new X509Bundle('b.test', [caB.certificate])] })
    expect((await rawHttpsGet(port, asClient(clientB))).body).toBe('ok')
  })
})
