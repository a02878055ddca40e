// svidInterceptor over real sockets: a grpc-js server on an SVID listener (certificates requested and
// verified per call), the four call kinds, per-method requirements, the global policy, JWT-SVID call
// credentials, fail-closed behaviour and the unforgeable caller.

import type { CallerVerifierOptions } from '@svidkit/core/caller'
import type { Authorizer, Decision } from '@svidkit/core/policy'
import { authorizeId, createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import { StaticSource } from '@svidkit/core/source'
import {
  jwtSvidCallCredentials,
  type SvidInterceptorAdapterOptions,
  type SvidInterceptorOptions,
  serveSvid,
  svidChannelCredentials,
  svidInterceptor,
} from '@svidkit/grpc'
import { TestCA, type TestX509Svid } from '@svidkit/testing'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import {
  bidi,
  clientStream,
  ECHO,
  type EchoClient,
  type Events,
  echoClient,
  echoHandlers,
  grpc,
  HOST,
  type Outcome,
  serverStream,
  unary,
} from './helpers.js'

const SERVER = 'spiffe://example.org/orders'
const WEB = 'spiffe://example.org/web'
const ADMIN = 'spiffe://example.org/admin'
const ECHO_ALL = '/svidkit.test.Echo/*'

let ca: TestCA
let serverSource: StaticSource
let web: TestX509Svid
const minted: string[] = []
let jwtSource: StaticSource
const cleanup: (() => unknown)[] = []

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  serverSource = new StaticSource({ svid: await ca.issueX509Svid({ id: SERVER }), bundles: ca.bundleSet() })
  web = await ca.issueX509Svid({ id: WEB })
  jwtSource = new StaticSource({
    bundles: ca.bundleSet(),
    mintJwtSvid: async (p) => {
      const token = await ca.mintJwtSvid({
        subject: WEB,
        audience: p.audience,
        claims: { scope: 'orders:read' },
      })
      minted.push(token)
      return token
    },
  })
})
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})
afterAll(async () => {
  await serverSource?.close()
  await jwtSource?.close()
})

async function start(
  options: Omit<CallerVerifierOptions, 'bundles'> & SvidInterceptorAdapterOptions,
  events: Events = [],
) {
  const interceptor = svidInterceptor({
    bundles: serverSource,
    audit: false,
    ...options,
  } as SvidInterceptorOptions)
  const server = new grpc.Server({ interceptors: [interceptor] })
  server.addService(ECHO, echoHandlers(events))
  const listener = await serveSvid(server, {
    address: `${HOST}:0`,
    source: serverSource,
    clientCertificate: 'requested',
  })
  cleanup.push(
    () => listener.close({ graceMs: 0 }),
    () => server.forceShutdown(),
  )
  return { port: listener.port, events, interceptor }
}

/** TLS to the server, presenting `svid` as the client certificate (or none). */
function client(port: number, svid?: TestX509Svid, call?: grpc.CallCredentials): EchoClient {
  let channel = svid
    ? svidChannelCredentials({
        source: new StaticSource({ svid, bundles: ca.bundleSet() }),
        authorize: authorizeId(SERVER),
      })
    : grpc.credentials.createSsl(Buffer.from(ca.certificate.toString()), null, null, {
        checkServerIdentity: () => undefined,
      })
  if (call) channel = grpc.credentials.combineChannelCredentials(channel, call)
  const c = echoClient(port, channel)
  cleanup.push(() => c.close())
  return c
}

const failure = (code: number, errorCode: string) => ({
  ok: false,
  code,
  details: expect.stringMatching(new RegExp(`^${errorCode}: `)),
})

function delayed(decision: 'allow' | 'deny', events: Events): Authorizer {
  return {
    async authorize(input): Promise<Decision> {
      await new Promise((r) => setTimeout(r, 30))
      events.push(`decided:${input.operation.kind === 'grpc' ? input.operation.method : '?'}`)
      return {
        decision,
        rule: decision === 'deny' ? 'slow-deny' : null,
        reason: `slow ${decision}`,
        audit: [],
      }
    },
  }
}

describe('no request message reaches the handler before the decision', () => {
  const runs: [string, (c: EchoClient) => Promise<Outcome<unknown>>, string[]][] = [
    ['unary', (c) => unary(c, { n: 1 }), ['unary:{"n":1}']],
    ['server-streaming', (c) => serverStream(c, { n: 1 }), ['serverStream:{"n":1}']],
    [
      'client-streaming',
      (c) => clientStream(c, [{ m: 0 }, { m: 1 }]),
      ['clientStream:start', 'clientStream:{"m":0}', 'clientStream:{"m":1}'],
    ],
    ['bidi', (c) => bidi(c, [{ m: 0 }, { m: 1 }]), ['bidi:start', 'bidi:{"m":0}', 'bidi:{"m":1}']],
  ]

  test.each(runs)('%s: an asynchronous allow comes first, then every message', async (_kind, run, seen) => {
    const events: Events = []
    const { port } = await start({ authorizer: delayed('allow', events) }, events)
    const r = await run(client(port, web))
    expect(r.ok, JSON.stringify(r)).toBe(true)
    expect(events[0]).toMatch(/^decided:\/svidkit\.test\.Echo\//)
    expect(events.slice(1)).toEqual(seen)
  })

  test.each(runs)(
    '%s: an asynchronous deny: 7 PERMISSION_DENIED and the handler never runs',
    async (_kind, run) => {
      const events: Events = []
      const { port } = await start({ authorizer: delayed('deny', events) }, events)
      const r = await run(client(port, web))
      expect(r).toEqual(failure(grpc.status.PERMISSION_DENIED, 'ERR_ACCESS_DENIED'))
      expect(events).toHaveLength(1)
      expect(events[0]).toMatch(/^decided:/)
    },
  )

  test.each(runs)('%s: no credentials: 16 UNAUTHENTICATED and the handler never runs', async (_kind, run) => {
    const events: Events = []
    const { port } = await start({}, events)
    expect(await run(client(port))).toEqual(failure(grpc.status.UNAUTHENTICATED, 'ERR_CREDENTIALS_MISSING'))
    expect(events).toEqual([])
  })
})

describe('per-method requirements', () => {
  const byMethod = {
    '/svidkit.test.Echo/Unary': { callers: [ADMIN] }, // the exact method wins over its service
    [ECHO_ALL]: { callers: [WEB] },
    '/svidkit.test.Echo/ServerStream': { public: true },
    '/svidkit.test.Echo/ClientStream': { optional: true },
  }

  test('exact method, service wildcard, public and optional methods, for a certificate caller', async () => {
    const { port, events } = await start({ methods: byMethod })
    const c = client(port, web)
    expect(await unary(c)).toEqual(failure(grpc.status.PERMISSION_DENIED, 'ERR_ACCESS_DENIED'))
    expect(await bidi(c, [{ m: 0 }])).toEqual({
      ok: true,
      value: [{ echo: { m: 0 }, caller: `${WEB} via mtls` }],
    })
    expect(await serverStream(c, { n: 1 })).toEqual({ ok: true, value: [{ i: 0, caller: null }] })
    expect(await clientStream(c, [])).toEqual({ ok: true, value: { count: 0, caller: `${WEB} via mtls` } })
    expect(events).not.toContain('unary:{}')
  })

  test('the same methods without credentials', async () => {
    const { port } = await start({ methods: byMethod })
    const c = client(port)
    expect(await unary(c)).toEqual(failure(grpc.status.UNAUTHENTICATED, 'ERR_CREDENTIALS_MISSING'))
    expect(await bidi(c, [])).toEqual(failure(grpc.status.UNAUTHENTICATED, 'ERR_CREDENTIALS_MISSING'))
    expect(await serverStream(c, { n: 1 })).toEqual({ ok: true, value: [{ i: 0, caller: null }] })
    expect(await clientStream(c, [])).toEqual({ ok: true, value: { count: 0, caller: null } })
  })

  test('a public method ignores even bad credentials; an optional one refuses them', async () => {
    const { port } = await start({ methods: byMethod })
    const rogue = await (await TestCA.create({ trustDomain: 'rogue.org' })).issueX509Svid({ id: '/web' })
    const bad = grpc.credentials.createSsl(
      Buffer.from(ca.certificate.toString()),
      Buffer.from(rogue.privateKeyPem),
      Buffer.from(rogue.certificatesPem),
      { checkServerIdentity: () => undefined },
    )
    const c = echoClient(port, bad)
    cleanup.push(() => c.close())
    expect(await serverStream(c, { n: 1 })).toEqual({ ok: true, value: [{ i: 0, caller: null }] })
    expect(await clientStream(c, [])).toEqual(failure(grpc.status.UNAUTHENTICATED, 'ERR_X509_SVID_NO_BUNDLE'))
  })

  test('defaultMode none leaves methods without settings public', async () => {
    const { port } = await start({
      defaultMode: 'none',
      methods: { '/svidkit.test.Echo/Unary': { callers: [WEB] } },
    })
    const c = client(port)
    expect(await bidi(c, [{ m: 1 }])).toEqual({ ok: true, value: [{ echo: { m: 1 }, caller: null }] })
    expect(await unary(c)).toEqual(failure(grpc.status.UNAUTHENTICATED, 'ERR_CREDENTIALS_MISSING'))
  })
})

describe('the global policy and audit', () => {
  test('policy rules name gRPC methods; a DENY beats an ALLOW; every decision is audited', async () => {
    const logged: { level: string; event: Record<string, unknown> }[] = []
    const logger = {
      info: (event: object) => logged.push({ level: 'info', event: event as Record<string, unknown> }),
      warn: (event: object) => logged.push({ level: 'warn', event: event as Record<string, unknown> }),
    }
    const policy = definePolicy({
      defaultAction: 'deny',
      rules: [
        {
          id: 'no-bidi',
          action: 'DENY',
          from: [{ principals: [WEB] }],
          to: [{ grpcMethods: ['/svidkit.test.Echo/Bidi'] }],
        },
        { id: 'echo-web', action: 'ALLOW', from: [{ principals: [WEB] }], to: [{ grpcMethods: [ECHO_ALL] }] },
      ],
    })
    const { port } = await start({ authorizer: createPolicyAuthorizer(policy), audit: { logger } })
    const c = client(port, web)
    expect(await unary(c)).toMatchObject({ ok: true })
    const denied = await bidi(c, [{ m: 0 }])
    expect(denied).toEqual(failure(grpc.status.PERMISSION_DENIED, 'ERR_ACCESS_DENIED'))
    expect((denied as { details: string }).details).toContain('no-bidi')
    expect(logged.map((l) => l.level)).toEqual(['info', 'warn'])
    expect(JSON.stringify(logged[0]!.event)).toContain('/svidkit.test.Echo/Unary')
    expect(JSON.stringify(logged[1]!.event)).toContain('no-bidi')
  })
})

describe('JWT-SVID call credentials', () => {
  test('per channel: every call carries a JWT-SVID for the audience; the caller has its scopes', async () => {
    const { port } = await start({
      jwt: { audience: SERVER },
      methods: { [ECHO_ALL]: { scopes: ['orders:read'] } },
    })
    const c = client(port, undefined, jwtSvidCallCredentials({ source: jwtSource, audience: SERVER }))
    expect(await unary(c)).toEqual({
      ok: true,
      value: { caller: `${WEB} via jwt`, metadataCaller: `${WEB} via jwt` },
    })
    expect(await bidi(c, [{ m: 0 }])).toMatchObject({ ok: true })
  })

  test('per call: the audience of one call; a wrong one is refused and the details hold no token', async () => {
    const { port } = await start({ jwt: { audience: SERVER } })
    const c = client(port)
    const good = jwtSvidCallCredentials({
      source: jwtSource,
      audience: (t) => (t.serviceUrl.endsWith('/svidkit.test.Echo') ? SERVER : 'x'),
    })
    expect(await unary(c, {}, { callOptions: { credentials: good } })).toMatchObject({ ok: true })
    const wrong = jwtSvidCallCredentials({ source: jwtSource, audience: 'spiffe://example.org/billing' })
    const r = await unary(c, {}, { callOptions: { credentials: wrong } })
    expect(r).toEqual(failure(grpc.status.UNAUTHENTICATED, 'ERR_JWT_SVID_AUDIENCE_MISMATCH'))
    const details = (r as { details: string }).details
    for (const token of minted) for (const part of token.split('.')) expect(details).not.toContain(part)
  })

  test('mTLS plus the same workload’s JWT-SVID: an mtls caller with the token’s scopes', async () => {
    const { port } = await start({
      jwt: { audience: SERVER },
      methods: { [ECHO_ALL]: { scopes: ['orders:read'] } },
    })
    const c = client(port, web, jwtSvidCallCredentials({ source: jwtSource, audience: SERVER }))
    expect(await unary(c)).toMatchObject({ ok: true, value: { caller: `${WEB} via mtls` } })
  })

  test('a source that cannot give a token fails the call before it is sent', async () => {
    const { port, events } = await start({ jwt: { audience: SERVER } })
    const empty = new StaticSource({ bundles: ca.bundleSet() })
    const c = client(port, undefined, jwtSvidCallCredentials({ source: empty, audience: SERVER }))
    expect(await unary(c)).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE })
    expect(events).toEqual([])
  })

  test('options are validated when the credentials are created', () => {
    for (const bad of [
      {},
      { source: jwtSource },
      { source: jwtSource, audience: '' },
      { source: {}, audience: 'a' },
      { source: jwtSource, audience: 'a', extraAudiences: [''] },
    ]) {
      expect(() => jwtSvidCallCredentials(bad as never)).toThrow(
        expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
      )
    }
  })
})

describe('fail closed, and a caller no client can forge', () => {
  test('an authorizer that throws: 13 INTERNAL, the handler never runs', async () => {
    const { port, events } = await start({
      authorizer: {
        authorize() {
          throw new TypeError('boom')
        },
      },
    })
    expect(await unary(client(port, web))).toMatchObject({ ok: false, code: grpc.status.INTERNAL })
    expect(events).toEqual([])
  })

  test('client metadata cannot name a caller: callerOf is keyed by the call, not by a value', async () => {
    const { port } = await start({ methods: { [ECHO_ALL]: { public: true } } })
    const metadata = new grpc.Metadata()
    for (const key of ['caller', 'x-svidkit-caller', 'x-forwarded-client-cert', 'authorization']) {
      metadata.set(key, key === 'authorization' ? 'Bearer a.b.c' : WEB)
    }
    expect(await unary(client(port), {}, { metadata })).toEqual({
      ok: true,
      value: { caller: null, metadataCaller: null },
    })
  })

  test('a ready verifier can be shared, and is exposed', async () => {
    const first = svidInterceptor({ bundles: serverSource, audit: false })
    const second = svidInterceptor({ verifier: first.verifier, defaultMode: 'optional' })
    expect(second.verifier).toBe(first.verifier)
    expect(first.verifier.channels).toEqual(['mtls'])
  })

  test.each([
    ['a method that is not a full method', { methods: { 'Echo/Unary': {} } }],
    ['a method with two wildcards', { methods: { '/*/*': {} } }],
    ['a public method with requirements', { methods: { '/a.B/C': { public: true, scopes: ['x'] } } }],
    ['an unknown default mode', { defaultMode: 'sometimes' }],
    ['a verifier together with verifier options', { verifier: {}, jwt: { audience: 'x' } }],
  ])('options are validated when the interceptor is created: %s', (_label, options) => {
    expect(() => svidInterceptor({ bundles: serverSource, ...options } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})
