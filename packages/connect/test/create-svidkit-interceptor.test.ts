// createSvidkitInterceptor over real sockets: a connect-node server on an HTTP/2 TLS listener
// (certificates requested, verified per call), every protocol (Connect, gRPC, gRPC-web) and call kind,
// per-method requirements, the global policy, JWT-SVIDs, fail-closed behaviour, the caller in context
// values, and options validated when the interceptor is created.
import http2 from 'node:http2'
import { Code, ConnectError, createContextValues, type Interceptor } from '@connectrpc/connect'
import {
  callerKey,
  callerOf,
  createSvidkitInterceptor,
  type SvidkitInterceptorOptions,
  svidkitCodeOf,
  svidkitContextValues,
} from '@svidkit/connect'
import { type Caller, type CallerVerifierOptions, callerFromId } from '@svidkit/core/caller'
import type { Authorizer, Decision } from '@svidkit/core/policy'
import { TestCA, type TestX509Svid } from '@svidkit/testing'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import {
  type Events,
  echoClient,
  HOST,
  json,
  type Protocol,
  type Reply,
  startServer,
  struct,
  who,
  within,
} from './helpers.js'

const SERVER = 'spiffe://example.org/orders'
const WEB = 'spiffe://example.org/web'
const ADMIN = 'spiffe://example.org/admin'
const UNARY = '/svidkit.test.Echo/Unary'
const ECHO_ALL = '/svidkit.test.Echo/*'
const PROTOCOLS: readonly Protocol[] = ['connect', 'grpc', 'grpc-web']

let ca: TestCA
let serverSvid: TestX509Svid
let web: TestX509Svid
let admin: TestX509Svid
const cleanup: (() => unknown)[] = []

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  serverSvid = await ca.issueX509Svid({ id: SERVER })
  web = await ca.issueX509Svid({ id: WEB })
  admin = await ca.issueX509Svid({ id: ADMIN })
})
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})
afterAll(() => undefined)

type Options = Omit<CallerVerifierOptions, 'bundles'> &
  Omit<SvidkitInterceptorOptions, 'bundles' | 'verifier'>

async function start(
  options: Options,
  extra: {
    after?: Interceptor[]
    contextValues?: Parameters<typeof startServer>[0]['contextValues'] | null
    reply?: Reply
  } = {},
) {
  const events: Events = []
  const interceptor = createSvidkitInterceptor({
    bundles: ca.bundleSet(),
    audit: false,
    ...options,
  } as SvidkitInterceptorOptions)
  const server = await startServer({
    svid: serverSvid,
    bundles: ca.bundleSet(),
    interceptors: [interceptor, ...(extra.after ?? [])],
    ...(extra.contextValues === null ? {} : { contextValues: extra.contextValues ?? svidkitContextValues }),
    events,
    ...(extra.reply ? { reply: extra.reply } : {}),
  })
  cleanup.push(() => server.close())
  return { port: server.port, events, interceptor }
}

function client(
  port: number,
  protocol: Protocol = 'connect',
  svid?: TestX509Svid,
  httpVersion?: '1.1' | '2',
) {
  const c = echoClient(port, {
    protocol,
    ca: ca.certificate.toString(),
    ...(svid ? { svid } : {}),
    ...(httpVersion ? { httpVersion } : {}),
  })
  cleanup.push(() => c.close())
  return c.client
}

type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; code: Code; svidkit: string | undefined; message: string }

async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await within(run(), 8000, 'connect call') }
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err
    return { ok: false, code: err.code, svidkit: svidkitCodeOf(err), message: err.rawMessage }
  }
}

const unary = (c: ReturnType<typeof client>, body = {}, headers?: Record<string, string>) =>
  outcome(async () => json((await c.unary(struct(body), headers ? { headers } : {})) as never))

const refused = (code: Code, svidkit: string) => ({ ok: false, code, svidkit, message: expect.any(String) })

describe.each(PROTOCOLS)('over %s', (protocol) => {
  test('an mTLS caller reaches the handler, which reads it from the context values', async () => {
    const { port, events } = await start({})
    expect(await unary(client(port, protocol, web), { n: 1 })).toEqual({
      ok: true,
      value: { caller: `${WEB} via mtls` },
    })
    expect(events).toEqual(['unary:{"n":1}'])
  })

  test('no credentials: 16 Unauthenticated with the svidkit code; the handler never runs', async () => {
    const { port, events } = await start({})
    const r = await unary(client(port, protocol))
    expect(r).toEqual(refused(Code.Unauthenticated, 'ERR_CREDENTIALS_MISSING'))
    expect((r as { message: string }).message).toMatch(/^credentials: /)
    expect(events).toEqual([])
  })

  test('a requirement the caller does not meet: 7 PermissionDenied', async () => {
    const { port, events } = await start({ methods: { [UNARY]: { callers: [ADMIN] } } })
    expect(await unary(client(port, protocol, web))).toEqual(
      refused(Code.PermissionDenied, 'ERR_ACCESS_DENIED'),
    )
    expect(await unary(client(port, protocol, admin))).toEqual({
      ok: true,
      value: { caller: `${ADMIN} via mtls` },
    })
    expect(events).toEqual(['unary:{}'])
  })
})

describe('streaming calls are decided before the handler reads a message', () => {
  test.each(PROTOCOLS.filter((p) => p !== 'grpc-web'))(
    '%s: refused streams never reach the handler',
    async (protocol) => {
      const { port, events } = await start({})
      const c = client(port, protocol)
      const server = await outcome(async () => {
        const out: unknown[] = []
        for await (const m of c.serverStream(struct({ n: 1 })) as AsyncIterable<never>) out.push(json(m))
        return out
      })
      expect(server).toEqual(refused(Code.Unauthenticated, 'ERR_CREDENTIALS_MISSING'))
      async function* messages() {
        yield struct({ a: 1 })
        yield struct({ a: 2 })
      }
      expect(await outcome(() => c.clientStream(messages()) as Promise<unknown>)).toEqual(
        refused(Code.Unauthenticated, 'ERR_CREDENTIALS_MISSING'),
      )
      const bidi = await outcome(async () => {
        const out: unknown[] = []
        for await (const m of c.bidi(messages()) as AsyncIterable<never>) out.push(json(m))
        return out
      })
      expect(bidi).toEqual(refused(Code.Unauthenticated, 'ERR_CREDENTIALS_MISSING'))
      expect(events).toEqual([])
    },
  )

  test.each(PROTOCOLS.filter((p) => p !== 'grpc-web'))(
    '%s: allowed streams see the caller',
    async (protocol) => {
      const { port } = await start({})
      const c = client(port, protocol, web)
      const out: unknown[] = []
      for await (const m of c.serverStream(struct({})) as AsyncIterable<never>) out.push(json(m))
      expect(out).toEqual([
        { i: 0, caller: `${WEB} via mtls` },
        { i: 1, caller: `${WEB} via mtls` },
      ])
      async function* messages() {
        yield struct({ a: 1 })
      }
      expect(json((await c.clientStream(messages())) as never)).toEqual({
        count: 1,
        caller: `${WEB} via mtls`,
      })
    },
  )
})

describe('per-method requirements', () => {
  test('public: no authentication, credentials not even looked at; optional: a caller when there are credentials', async () => {
    const { port } = await start({
      jwt: { audience: SERVER },
      methods: { [UNARY]: { public: true }, '/svidkit.test.Echo/Other': { optional: true } },
    })
    const bad = { authorization: 'Bearer x.y.z' }
    expect(await unary(client(port, 'connect'), {}, bad)).toEqual({ ok: true, value: { caller: null } })
    const other = (c: ReturnType<typeof client>, headers?: Record<string, string>) =>
      outcome(async () => json((await c.other(struct({}), headers ? { headers } : {})) as never))
    expect(await other(client(port, 'grpc'))).toEqual({ ok: true, value: { caller: null } })
    expect(await other(client(port, 'grpc', web))).toEqual({ ok: true, value: { caller: `${WEB} via mtls` } })
    expect(await other(client(port, 'grpc'), bad)).toEqual(
      refused(Code.Unauthenticated, 'ERR_JWT_SVID_MALFORMED'),
    )
  })

  test('the exact method wins over its service; defaultMode settles the rest', async () => {
    const { port } = await start({
      defaultMode: 'optional',
      methods: { [ECHO_ALL]: { callers: [ADMIN] }, [UNARY]: { callers: [WEB] } },
    })
    expect(await unary(client(port, 'connect', web))).toEqual({
      ok: true,
      value: { caller: `${WEB} via mtls` },
    })
    const other = await outcome(async () =>
      json((await client(port, 'connect', web).other(struct({}))) as never),
    )
    expect(other).toEqual(refused(Code.PermissionDenied, 'ERR_ACCESS_DENIED'))
  })

  test('JWT-SVID in authorization, with scopes; the token never appears in a refusal', async () => {
    const { port } = await start({
      jwt: { audience: SERVER },
      methods: { [UNARY]: { scopes: ['orders:write'] } },
    })
    const token = await ca.mintJwtSvid({ subject: WEB, audience: SERVER, claims: { scope: 'orders:read' } })
    const r = await unary(client(port, 'connect'), {}, { authorization: `Bearer ${token}` })
    expect(r).toEqual(refused(Code.PermissionDenied, 'ERR_SCOPE_MISSING'))
    expect(JSON.stringify(r)).not.toContain(token)
    const good = await ca.mintJwtSvid({ subject: WEB, audience: SERVER, claims: { scope: 'orders:write' } })
    expect(
      await unary(client(port, 'grpc-web', undefined, '1.1'), {}, { authorization: `Bearer ${good}` }),
    ).toEqual({
      ok: true,
      value: { caller: `${WEB} via jwt` },
    })
    const wrong = await ca.mintJwtSvid({ subject: WEB, audience: 'spiffe://example.org/billing' })
    const w = await unary(client(port, 'grpc'), {}, { authorization: `Bearer ${wrong}` })
    expect(w).toEqual(refused(Code.Unauthenticated, 'ERR_JWT_SVID_AUDIENCE_MISMATCH'))
    expect(JSON.stringify(w)).not.toContain(wrong)
  })
})

describe('the global policy', () => {
  test('sees the gRPC operation /package.Service/Method, whatever the protocol', async () => {
    const seen: unknown[] = []
    const authorizer: Authorizer = {
      authorize(input): Decision {
        seen.push(input.operation)
        return input.caller?.channel !== 'oidc' && input.caller?.spiffeId.toString() === ADMIN
          ? { decision: 'allow', rule: 'admin', reason: 'admin' }
          : { decision: 'deny', rule: 'admin', reason: 'only the admin' }
      },
    } as Authorizer
    const { port } = await start({ authorizer })
    for (const protocol of PROTOCOLS) {
      expect(await unary(client(port, protocol, web))).toEqual(
        refused(Code.PermissionDenied, 'ERR_ACCESS_DENIED'),
      )
      expect(await unary(client(port, protocol, admin))).toMatchObject({ ok: true })
    }
    expect(seen).toEqual(Array(6).fill({ kind: 'grpc', method: UNARY }))
  })

  test('an authorizer that cannot decide: 14 Unavailable', async () => {
    const authorizer = {
      authorize: async () => {
        throw new (await import('@svidkit/core/errors')).AccessDeniedError(
          'ERR_AUTHORIZER_UNAVAILABLE',
          'policy engine down',
        )
      },
    } as unknown as Authorizer
    const { port } = await start({ authorizer })
    expect(await unary(client(port, 'connect', web))).toEqual(
      refused(Code.Unavailable, 'ERR_AUTHORIZER_UNAVAILABLE'),
    )
  })
})

describe('fails closed', () => {
  test('without contextValues: 13 ERR_OPTIONS_INVALID for every non-public method; public ones still answer', async () => {
    const { port, events } = await start(
      { methods: { '/svidkit.test.Echo/Other': { public: true } } },
      { contextValues: null },
    )
    const r = await unary(client(port, 'connect', web))
    expect(r).toEqual(refused(Code.Internal, 'ERR_OPTIONS_INVALID'))
    expect((r as { message: string }).message).toMatch(/svidkitContextValues/)
    expect(await outcome(async () => json((await client(port, 'grpc').other(struct({}))) as never))).toEqual({
      ok: true,
      value: { caller: null },
    })
    expect(events).toEqual(['other'])
  })

  test('a caller set in context values before the interceptor does not count', async () => {
    const forged: Caller = callerFromId(ADMIN, { channel: 'mtls' })
    const { port, events } = await start(
      {},
      { contextValues: (req) => svidkitContextValues(req, createContextValues().set(callerKey, forged)) },
    )
    expect(await unary(client(port, 'connect'))).toEqual(
      refused(Code.Unauthenticated, 'ERR_CREDENTIALS_MISSING'),
    )
    expect(await unary(client(port, 'connect', web))).toEqual({
      ok: true,
      value: { caller: `${WEB} via mtls` },
    })
    expect(events).toEqual(['unary:{}'])
  })

  test('callerOf in a handler: 16 on a public method, 13 without the interceptor', async () => {
    const reply: Reply = (ctx) => ({ caller: who(callerOf(ctx)) })
    const { port } = await start({ methods: { [UNARY]: { public: true } } }, { reply })
    expect(await unary(client(port, 'connect', web))).toEqual(
      refused(Code.Unauthenticated, 'ERR_CREDENTIALS_MISSING'),
    )
    expect(
      await outcome(async () => json((await client(port, 'connect', web).other(struct({}))) as never)),
    ).toEqual({
      ok: true,
      value: { caller: `${WEB} via mtls` },
    })
  })

  test('interceptors after it see the caller, and never a refused call', async () => {
    const seen: (string | null)[] = []
    const after: Interceptor = (next) => async (req) => {
      seen.push(who(req.contextValues.get(callerKey)))
      return next(req)
    }
    const { port } = await start({}, { after: [after] })
    await unary(client(port, 'grpc'))
    await unary(client(port, 'grpc', web))
    expect(seen).toEqual([`${WEB} via mtls`])
  })
})

describe('options are validated when the interceptor is created', () => {
  const bundles = () => ca.bundleSet()
  test.each([
    ['not an object', null],
    ['a bad defaultMode', { defaultMode: 'sometimes' }],
    ['methods not an object', { methods: [] }],
    ['a method that is not a full method', { methods: { Unary: {} } }],
    ['a method with two services', { methods: { '/a.B/C/D': {} } }],
    ['an invalid requirement', { methods: { [UNARY]: { public: true, callers: [WEB] } } }],
    ['an unknown requirement key', { methods: { [UNARY]: { role: 'admin' } } }],
    ['a verifier together with verifier options', { verifier: {} }],
  ])('%s: ERR_OPTIONS_INVALID', (_what, extra) => {
    const options = extra === null ? null : { bundles: bundles(), ...extra }
    expect(() => createSvidkitInterceptor(options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })

  test('a ready verifier can be shared', async () => {
    const first = createSvidkitInterceptor({ bundles: bundles(), audit: false })
    const second = createSvidkitInterceptor({ verifier: first.verifier })
    expect(second.verifier).toBe(first.verifier)
    expect(first.verifier.channels).toEqual(['mtls'])
  })
})

describe('the operation comes from the method descriptor, not the URL', () => {
  /** One raw Connect unary call on HTTP/2 to `path`, as the web workload; resolves to the HTTP status. */
  function raw(port: number, path: string): Promise<number> {
    return within(
      new Promise<number>((resolve, reject) => {
        const session = http2.connect(`https://${HOST}:${port}`, {
          ca: ca.certificate.toString(),
          cert: web.certificatesPem,
          key: web.privateKeyPem,
          checkServerIdentity: () => undefined,
        })
        session.on('error', reject)
        const stream = session.request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/json',
          'connect-protocol-version': '1',
        })
        stream.on('response', (headers) => {
          stream.resume()
          stream.on('end', () => {
            session.close()
            resolve(Number(headers[':status']))
          })
        })
        stream.on('error', reject)
        stream.end('{}')
      }),
      5000,
      `POST ${path}`,
    )
  }

  test('no other spelling of a denied method reaches its handler', async () => {
    const { port, events } = await start({ methods: { [UNARY]: { callers: [ADMIN] } } })
    expect(await raw(port, UNARY)).toBe(403)
    for (const path of [
      '/svidkit.test.Echo/unary',
      '/svidkit.test.echo/Unary',
      '/Svidkit.Test.Echo/Unary',
      '/svidkit.test.Echo/Unary/',
      '//svidkit.test.Echo/Unary',
      '/svidkit.test.Echo//Unary',
      '/svidkit.test.Echo/Unary;x',
      '/svidkit.test.Echo/%55nary',
      '/svidkit.test.Echo/Unary%2F',
      '/svidkit.test.Echo/Unary?connect=v1',
      '/x/../svidkit.test.Echo/Unary',
    ]) {
      expect([403, 404], path).toContain(await raw(port, path))
    }
    expect(events).toEqual([])
  })
})

describe('the client chain is verified once per connection', () => {
  test.each(['requested', 'required'] as const)(
    'clientCertificate %s: many calls on one HTTP/2 connection, at most one chain verification',
    async (clientCertificate) => {
      let lookups = 0
      const set = ca.bundleSet()
      const counted = {
        getX509BundleForTrustDomain: (td: Parameters<typeof set.getX509BundleForTrustDomain>[0]) => {
          lookups++
          return set.getX509BundleForTrustDomain(td)
        },
      }
      const server = await startServer({
        svid: serverSvid,
        bundles: set,
        interceptors: [createSvidkitInterceptor({ bundles: counted, audit: false })],
        contextValues: svidkitContextValues,
        clientCertificate,
      })
      cleanup.push(() => server.close())
      const c = client(server.port, 'grpc', web)
      for (let i = 0; i < 20; i++) {
        expect(await unary(c)).toEqual({ ok: true, value: { caller: `${WEB} via mtls` } })
      }
      // `requested`: verified by the interceptor on the first call; `required`: in the handshake, by
      // the listener (the interceptor reads that caller and looks up no bundle).
      expect(lookups).toBe(clientCertificate === 'requested' ? 1 : 0)
    },
  )
})
