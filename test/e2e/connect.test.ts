// The caller-scenario table over a real connect-node server with @svidkit/connect's interceptor,
// twice: as gRPC calls (HTTP/2, the JSON codec of gRPC) and as Connect protocol calls (HTTPS/1.1,
// JSON). Then connect-node's own client transports (Connect over HTTP/2, gRPC, gRPC-web over
// HTTP/1.1) against the same server, as an application would call it. Run with Connect 2.3 here
// (project e2e) and with 2.0.2, the oldest supported release (project connect-2.0.2).
import { readFileSync, realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { toJson } from '@bufbuild/protobuf'
import { type Struct, StructSchema } from '@bufbuild/protobuf/wkt'
import { type CallOptions, Code, ConnectError, createClient, type Transport } from '@connectrpc/connect'
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from '@connectrpc/connect-node'
import { svidkitCodeOf } from '@svidkit/connect'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { connectAdapter, routesService } from './adapters/connect.js'
import type { RunningServer } from './harness/adapter.js'
import { connectClient } from './harness/connect-client.js'
import { createFixtures, type Fixtures, SELF, WEB } from './harness/fixtures.js'
import { grpcJsonClient } from './harness/grpc-client.js'
import { runScenarios } from './harness/run-scenarios.js'

const oldest = process.env.SVIDKIT_CONNECT === '2.0.2'

test('the Connect version under test', async () => {
  // The project connect-2.0.2 points @connectrpc/* at test/connect-2-0; the others use test/e2e's own.
  const dir = new URL(
    oldest ? '../connect-2-0/node_modules/@connectrpc/connect/' : 'node_modules/@connectrpc/connect/',
    import.meta.url,
  )
  const { version } = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { version: string }
  expect(version).toBe(oldest ? '2.0.2' : '2.3.0')
  // The ConnectError these tests (and @svidkit/connect) see is that release's own class (its ES module
  // build, or its CommonJS one where the alias resolves the folder through its \`main\`).
  const builds = await Promise.all(
    ['esm', 'cjs'].map(async (kind) => {
      const file = pathToFileURL(`${realpathSync(dir)}/dist/${kind}/index.js`).href
      return ((await import(file)) as { ConnectError: unknown }).ConnectError
    }),
  )
  expect(builds).toContain(ConnectError)
})

const on = `connect-node ${oldest ? '2.0.2' : '2.3.0'}`
runScenarios(connectAdapter(`@svidkit/connect on ${on}, gRPC protocol (HTTP/2)`, grpcJsonClient))
runScenarios(connectAdapter(`@svidkit/connect on ${on}, Connect protocol (HTTP/1.1)`, connectClient))

/** The two methods these calls use, typed (the service is built at runtime, so its client is not). */
type RoutesClient = Record<'whoami' | 'scoped', (request: object, options?: CallOptions) => Promise<Struct>>

describe('connect-node client transports against @svidkit/connect', () => {
  let fx: Fixtures
  let server: RunningServer
  const managers: Http2SessionManager[] = []

  beforeAll(async () => {
    fx = await createFixtures()
    server = await connectAdapter('transports', connectClient).start(fx.profiles.default)
  })
  afterAll(async () => {
    for (const m of managers) m.abort()
    await server?.close()
    await fx?.close()
  })

  /** A client of the routes service over `protocol`, presenting the web workload's SVID or nothing. */
  function routesClient(protocol: 'connect' | 'grpc' | 'grpc-web', withCertificate: boolean) {
    const tls = {
      ca: [...fx.serverTrust],
      ...(withCertificate ? { cert: fx.svids.web.certificatesPem, key: fx.svids.web.privateKeyPem } : {}),
      checkServerIdentity: (_host: string, cert: { subjectaltname?: string }) =>
        cert.subjectaltname?.split(', ').includes(`URI:${SELF}`) ? undefined : new Error(`not ${SELF}`),
    }
    const baseUrl = server.url
    let transport: Transport
    if (protocol === 'grpc-web') {
      transport = createGrpcWebTransport({
        baseUrl,
        httpVersion: '1.1',
        nodeOptions: { ...tls, agent: false },
      })
    } else {
      const sessionManager = new Http2SessionManager(baseUrl, {}, tls)
      managers.push(sessionManager)
      const options = { baseUrl, httpVersion: '2', sessionManager } as const
      transport = protocol === 'connect' ? createConnectTransport(options) : createGrpcTransport(options)
    }
    return createClient(routesService(fx.profiles.default.routes), transport) as unknown as RoutesClient
  }

  test.each(['connect', 'grpc', 'grpc-web'] as const)(
    '%s: an mTLS caller is served; without credentials the call fails Unauthenticated with the svidkit code',
    async (protocol) => {
      const ok = await routesClient(protocol, true).whoami({})
      expect(toJson(StructSchema, ok)).toEqual({ caller: { id: WEB, channel: 'mtls' } })

      const err = await routesClient(protocol, false)
        .whoami({})
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(err).toBeInstanceOf(ConnectError)
      const e = err as ConnectError
      expect(e.code).toBe(Code.Unauthenticated)
      expect(svidkitCodeOf(e)).toBe('ERR_CREDENTIALS_MISSING')
      expect(e.rawMessage).toMatch(/^credentials: /)
    },
  )

  test('Connect over HTTP/2: a JWT-SVID in authorization; a scope the token lacks is PermissionDenied', async () => {
    const client = routesClient('connect', false)
    const token = await fx.jwt(WEB, { claims: { scope: 'orders:read' } })
    const headers = { authorization: `Bearer ${token}` }
    const ok = await client.whoami({}, { headers })
    expect(toJson(StructSchema, ok)).toEqual({ caller: { id: WEB, channel: 'jwt' } })
    const err = (await client.scoped({}, { headers }).catch((e: unknown) => e)) as ConnectError
    expect(err.code).toBe(Code.PermissionDenied)
    expect(svidkitCodeOf(err)).toBe('ERR_SCOPE_MISSING')
    expect(err.message).not.toContain(token)
  })
})
