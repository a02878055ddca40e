// SvidkitGuard on Nest's gRPC transport, served by SvidGrpcServer (the SVID listener of @svidkit/grpc,
// client certificate requested): the four call kinds including @GrpcStreamMethod and @GrpcStreamCall,
// refusals as 16/7 (never 2), no message reaching a handler before the guard decided, a caller no
// metadata key can set, hybrid applications, and RPC transports other than gRPC.
import { Controller, Get, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import {
  ClientProxyFactory,
  GrpcMethod,
  GrpcStreamCall,
  GrpcStreamMethod,
  MessagePattern,
  type MicroserviceOptions,
  Transport,
} from '@nestjs/microservices'
import type { AuthorizationInput, Decision } from '@svidkit/core/policy'
import { createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import { StaticSource } from '@svidkit/core/source'
import { Caller, callerOf, Public, RequireCaller, SvidkitModule } from '@svidkit/nestjs'
import { SvidGrpcServer } from '@svidkit/nestjs/grpc'
import { firstValueFrom, from, map, type Observable, tap, toArray } from 'rxjs'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import {
  ADMIN,
  bidi,
  clientStream,
  createPki,
  ECHO_TRANSPORT,
  echoClient,
  grpc,
  HOST,
  type Pki,
  SELF,
  send,
  serverStream,
  startHttp,
  unary,
  WEB,
} from './helpers.js'

const events: string[] = []
const who = (caller: Caller | undefined) =>
  caller ? `${caller.spiffeId?.toString()} via ${caller.channel}` : null

@Controller()
class EchoController {
  @GrpcMethod('Echo', 'Unary')
  unary(data: unknown, metadata: grpc.Metadata, call: grpc.ServerUnaryCall<unknown, unknown>) {
    events.push(`unary:${JSON.stringify(data)}`)
    return { caller: who(callerOf(call)), fromMetadata: who(callerOf(metadata)) }
  }

  @Public()
  @GrpcMethod('Echo', 'Other')
  other(_data: unknown, metadata: grpc.Metadata) {
    return { caller: who(callerOf(metadata)), sawKey: metadata.get('caller')[0] ?? null }
  }

  @GrpcMethod('Echo', 'ServerStream')
  serverStream(data: { n?: number }, metadata: grpc.Metadata): Observable<unknown> {
    events.push('serverStream:start')
    const caller = who(callerOf(metadata))
    return from(Array.from({ length: data.n ?? 2 }, (_, i) => ({ i, caller })))
  }

  @GrpcStreamMethod('Echo', 'ClientStream')
  clientStream(messages: Observable<unknown>, metadata: grpc.Metadata): Observable<unknown> {
    events.push('clientStream:start')
    const caller = who(callerOf(metadata))
    return messages.pipe(
      tap((m) => events.push(`clientStream:${JSON.stringify(m)}`)),
      toArray(),
      map((all) => ({ count: all.length, caller })),
    )
  }

  @RequireCaller({ callers: [WEB] })
  @GrpcStreamCall('Echo', 'ClientStreamCall')
  clientStreamCall(
    call: grpc.ServerReadableStream<unknown, unknown>,
    callback: (err: unknown, value: unknown) => void,
  ) {
    events.push('call:start')
    let count = 0
    call.on('data', (m: unknown) => {
      count++
      events.push(`call:${JSON.stringify(m)}`)
    })
    call.on('end', () => callback(null, { count, caller: who(callerOf(call)) }))
  }

  @GrpcStreamMethod('Echo', 'Bidi')
  bidi(messages: Observable<unknown>, metadata: grpc.Metadata): Observable<unknown> {
    events.push('bidi:start')
    return messages.pipe(
      tap((m) => events.push(`bidi:${JSON.stringify(m)}`)),
      map((m) => ({ echo: m, caller: who(callerOf(metadata)) })),
    )
  }
}

let pki: Pki
let source: StaticSource
beforeAll(async () => {
  pki = await createPki()
  source = new StaticSource({ svid: pki.server, bundles: pki.ca.bundleSet() })
})
afterAll(async () => {
  await source?.close()
})
beforeEach(() => {
  events.length = 0
})

// Who may call what: web and admin anything, batch nothing. Decided asynchronously, 50 ms late, so
// that messages a client sends at once arrive while the guard is still deciding.
const policy = createPolicyAuthorizer(
  definePolicy({
    rules: [
      { id: 'shop', from: [{ principals: [WEB, ADMIN] }], to: [{ grpcMethods: ['/svidkit.test.Echo/*'] }] },
    ],
  }),
)
const slowPolicy = {
  authorize: (input: AuthorizationInput): Promise<Decision> =>
    new Promise((resolve) => setTimeout(() => resolve(policy.authorize(input) as Decision), 50)),
}

function appModule() {
  @Module({
    imports: [
      SvidkitModule.forRoot({
        bundles: pki.ca.bundleSet(),
        self: SELF,
        authorizer: slowPolicy,
        audit: false,
      }),
    ],
    controllers: [EchoController],
  })
  class AppModule {}
  return AppModule
}

describe('a gRPC microservice on SvidGrpcServer', () => {
  let app: Awaited<ReturnType<typeof NestFactory.createMicroservice>>
  let port: number
  beforeAll(async () => {
    const strategy = new SvidGrpcServer(ECHO_TRANSPORT, { source, clientCertificate: 'requested' })
    app = await NestFactory.createMicroservice<MicroserviceOptions>(appModule(), { strategy, logger: false })
    await app.listen()
    port = strategy.port!
  })
  afterAll(async () => {
    await app?.close()
  })

  test('unary: the mTLS caller (the whole chain, verified per connection by core), from the call and its metadata', async () => {
    const client = echoClient(pki, port, pki.web)
    try {
      expect(await unary(client, { n: 1 })).toEqual({
        ok: true,
        value: { caller: `${WEB} via mtls`, fromMetadata: `${WEB} via mtls` },
      })
    } finally {
      client.close()
    }
  })

  test('refusals are 16 UNAUTHENTICATED and 7 PERMISSION_DENIED with the reason, never 2 UNKNOWN', async () => {
    const anonymous = echoClient(pki, port)
    const batch = echoClient(pki, port, pki.batch)
    try {
      expect(await unary(anonymous)).toMatchObject({
        ok: false,
        code: grpc.status.UNAUTHENTICATED,
        details: expect.stringMatching(/^ERR_CREDENTIALS_MISSING: /),
      })
      expect(await unary(batch)).toMatchObject({
        ok: false,
        code: grpc.status.PERMISSION_DENIED,
        details: expect.stringMatching(/^ERR_ACCESS_DENIED: /),
      })
      for (const call of [
        () => serverStream(batch),
        () => clientStream(batch, [1]),
        () => bidi(batch, [1]),
      ]) {
        expect(await call()).toMatchObject({ ok: false, code: grpc.status.PERMISSION_DENIED })
      }
      expect(await clientStream(anonymous, [1], 'ClientStreamCall')).toMatchObject({
        ok: false,
        code: grpc.status.UNAUTHENTICATED,
      })
      expect(events).toEqual([])
    } finally {
      anonymous.close()
      batch.close()
    }
  })

  test('a bad client certificate is refused with its reason (not mistaken for none)', async () => {
    const rogue = await (await import('@svidkit/testing')).TestCA.create({ trustDomain: 'rogue.org' })
    const client = echoClient(pki, port, await rogue.issueX509Svid({ id: 'spiffe://rogue.org/web' }))
    try {
      expect(await unary(client)).toMatchObject({
        ok: false,
        code: grpc.status.UNAUTHENTICATED,
        details: expect.stringMatching(/^ERR_X509_SVID_NO_BUNDLE: /),
      })
    } finally {
      client.close()
    }
  })

  test('server streaming', async () => {
    const client = echoClient(pki, port, pki.admin)
    try {
      expect(await serverStream(client, { n: 3 })).toEqual({
        ok: true,
        value: [0, 1, 2].map((i) => ({ i, caller: `${ADMIN} via mtls` })),
      })
    } finally {
      client.close()
    }
  })

  test.each([
    ['@GrpcStreamMethod client stream', 'ClientStream', 'clientStream'],
    ['@GrpcStreamCall client stream', 'ClientStreamCall', 'call'],
  ] as const)('%s: no message reaches the handler before the guard decided', async (_n, method, prefix) => {
    const batch = echoClient(pki, port, pki.batch)
    const web = echoClient(pki, port, pki.web)
    try {
      // Written at once: the messages arrive while the (slow) policy is still deciding.
      const refused = await clientStream(batch, [{ m: 1 }, { m: 2 }], method)
      expect(refused).toMatchObject({ ok: false, code: grpc.status.PERMISSION_DENIED })
      expect(events).toEqual([])

      const allowed = await clientStream(web, [{ m: 1 }, { m: 2 }, { m: 3 }], method)
      expect(allowed).toEqual({ ok: true, value: { count: 3, caller: `${WEB} via mtls` } })
      expect(events).toEqual([
        `${prefix}:start`,
        `${prefix}:{"m":1}`,
        `${prefix}:{"m":2}`,
        `${prefix}:{"m":3}`,
      ])
    } finally {
      batch.close()
      web.close()
    }
  })

  test('bidi streaming: refused before the handler starts; allowed, every message in order', async () => {
    const batch = echoClient(pki, port, pki.batch)
    const web = echoClient(pki, port, pki.web)
    try {
      expect(await bidi(batch, [{ m: 1 }])).toMatchObject({ ok: false, code: grpc.status.PERMISSION_DENIED })
      expect(events).toEqual([])
      expect(await bidi(web, [{ m: 1 }, { m: 2 }])).toEqual({
        ok: true,
        value: [
          { echo: { m: 1 }, caller: `${WEB} via mtls` },
          { echo: { m: 2 }, caller: `${WEB} via mtls` },
        ],
      })
      expect(events).toEqual(['bidi:start', 'bidi:{"m":1}', 'bidi:{"m":2}'])
    } finally {
      batch.close()
      web.close()
    }
  })

  test('@RequireCaller on a @GrpcStreamCall handler', async () => {
    const admin = echoClient(pki, port, pki.admin)
    try {
      expect(await clientStream(admin, [{ m: 1 }], 'ClientStreamCall')).toMatchObject({
        ok: false,
        code: grpc.status.PERMISSION_DENIED,
        details: expect.stringContaining('EchoController.clientStreamCall'),
      })
      expect(events).toEqual([])
    } finally {
      admin.close()
    }
  })

  test('no metadata key can set the caller', async () => {
    const client = echoClient(pki, port)
    try {
      const metadata = new grpc.Metadata()
      for (const key of ['caller', 'x-caller', 'x-svidkit-caller', 'x-spiffe-id']) metadata.set(key, WEB)
      expect(await unary(client, {}, metadata, 'Other')).toEqual({
        ok: true,
        value: { caller: null, sawKey: WEB },
      })
      expect(await unary(client, {}, metadata)).toMatchObject({
        ok: false,
        code: grpc.status.UNAUTHENTICATED,
      })
    } finally {
      client.close()
    }
  })
})

describe('a hybrid application (HTTP + gRPC)', () => {
  @Controller()
  class HttpController {
    @Get('who')
    who(@Caller() caller: Caller | undefined) {
      return { caller: who(caller) }
    }
  }
  function hybridModule() {
    @Module({
      imports: [SvidkitModule.forRoot({ bundles: pki.ca.bundleSet(), self: SELF, audit: false })],
      controllers: [HttpController, EchoController],
    })
    class HybridModule {}
    return HybridModule
  }

  test.each([true, false])('connectMicroservice with inheritAppConfig: %s', async (inheritAppConfig) => {
    const server = await startHttp('express', hybridModule(), pki)
    const strategy = new SvidGrpcServer(ECHO_TRANSPORT, { source, clientCertificate: 'requested' })
    server.app.connectMicroservice<MicroserviceOptions>({ strategy }, { inheritAppConfig })
    await server.app.startAllMicroservices()
    const anonymous = echoClient(pki, strategy.port!)
    const web = echoClient(pki, strategy.port!, pki.web)
    try {
      expect((await send(pki, server.url, '/who')).status).toBe(401)
      if (inheritAppConfig) {
        // The global guard covers the microservice too.
        expect(await unary(anonymous)).toMatchObject({ ok: false, code: grpc.status.UNAUTHENTICATED })
        expect(await unary(web)).toMatchObject({ ok: true, value: { caller: `${WEB} via mtls` } })
      } else {
        // Nest's own rule (nest#4112): without it, global guards do not reach connected microservices,
        // which is why the README asks for inheritAppConfig.
        expect(await unary(anonymous)).toEqual({ ok: true, value: { caller: null, fromMetadata: null } })
      }
    } finally {
      anonymous.close()
      web.close()
      await server.close()
    }
  })
})

describe('RPC transports other than gRPC', () => {
  @Controller()
  class TcpController {
    @MessagePattern('guarded')
    guarded() {
      return 'guarded'
    }
    @Public()
    @MessagePattern('open')
    open() {
      return 'open'
    }
  }
  test('are refused unless the handler is @Public()', async () => {
    @Module({
      imports: [SvidkitModule.forRoot({ bundles: pki.ca.bundleSet(), audit: false })],
      controllers: [TcpController],
    })
    class TcpModule {}
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(TcpModule, {
      transport: Transport.TCP,
      options: { host: HOST, port: 0 },
      logger: false,
    })
    await app.listen()
    const address = (app.unwrap() as { address(): { port: number } }).address()
    const client = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: HOST, port: address.port },
    })
    try {
      expect(await firstValueFrom(client.send('open', {}))).toBe('open')
      await expect(firstValueFrom(client.send('guarded', {}))).rejects.toMatchObject({
        code: 13,
        message: expect.stringMatching(
          /^ERR_OPTIONS_INVALID: .*cannot authenticate a rpc \(not gRPC\) context/,
        ),
      })
    } finally {
      await client.close()
      await app.close()
    }
  })
})
