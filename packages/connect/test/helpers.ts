// Shared plumbing for the @svidkit/connect tests: an "Echo" service built at runtime from a
// FileDescriptorProto (no code generation; messages are google.protobuf.Struct, so any JSON object),
// with the four call kinds; a connect-node server on an HTTP/2 TLS listener on 127.0.0.1:0 (core's
// createMtlsServerConfig, client certificates requested and verified per call by the interceptor);
// clients for the Connect, gRPC and gRPC-web protocols; bounded waits.
import http2 from 'node:http2'
import {
  create,
  createFileRegistry,
  type DescMethod,
  type DescService,
  fromJson,
  type JsonObject,
  toJson,
} from '@bufbuild/protobuf'
import {
  FileDescriptorProtoSchema,
  file_google_protobuf_struct,
  type Struct,
  StructSchema,
} from '@bufbuild/protobuf/wkt'
import {
  type ContextValues,
  createClient,
  type HandlerContext,
  type Interceptor,
  type Transport,
} from '@connectrpc/connect'
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from '@connectrpc/connect-node'
import { callerKey } from '@svidkit/connect'
import type { Caller } from '@svidkit/core/caller'
import { StaticSource } from '@svidkit/core/source'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import type { TestX509Svid } from '@svidkit/testing'
import { listenHttp2 } from '../../../test/e2e/harness/listen-http2.js'

export const HOST = '127.0.0.1'
export const SERVICE = 'svidkit.test.Echo'

const file = create(FileDescriptorProtoSchema, {
  name: 'svidkit/test/echo.proto',
  package: 'svidkit.test',
  dependency: ['google/protobuf/struct.proto'],
  syntax: 'proto3',
  service: [
    {
      name: 'Echo',
      method: [
        { name: 'Unary', inputType: '.google.protobuf.Struct', outputType: '.google.protobuf.Struct' },
        { name: 'Other', inputType: '.google.protobuf.Struct', outputType: '.google.protobuf.Struct' },
        {
          name: 'ServerStream',
          inputType: '.google.protobuf.Struct',
          outputType: '.google.protobuf.Struct',
          serverStreaming: true,
        },
        {
          name: 'ClientStream',
          inputType: '.google.protobuf.Struct',
          outputType: '.google.protobuf.Struct',
          clientStreaming: true,
        },
        {
          name: 'Bidi',
          inputType: '.google.protobuf.Struct',
          outputType: '.google.protobuf.Struct',
          clientStreaming: true,
          serverStreaming: true,
        },
      ],
    },
  ],
})

/** The Echo service, as a descriptor connect routes and clients take. */
export const Echo: DescService = createFileRegistry(file, (name) =>
  name === 'google/protobuf/struct.proto' ? file_google_protobuf_struct : undefined,
).getService(SERVICE)!

export const struct = (value: JsonObject): Struct => fromJson(StructSchema, value)
export const json = (value: Struct): JsonObject => toJson(StructSchema, value) as JsonObject

/** What a caller looks like in a reply. */
export function who(caller: Caller | undefined): string | null {
  if (!caller) return null
  return caller.channel === 'oidc' ? caller.principal.sub : `${caller.spiffeId} via ${caller.channel}`
}

/** Events the handlers saw, in order (messages, handler starts), to check what ran before a decision. */
export type Events = string[]

/** The reply of every handler: who called, as `ctx.values.get(callerKey)` has it, plus `extra(ctx)`. */
export type Reply = (ctx: HandlerContext) => JsonObject

const seen = (ctx: HandlerContext): JsonObject => ({ caller: who(ctx.values.get(callerKey)) })

/** Handlers answering who called; each records what it received into `events`. */
export function echoRoutes(events: Events, reply: Reply = seen) {
  const m = Echo.method as Record<string, DescMethod>
  return (router: import('@connectrpc/connect').ConnectRouter) => {
    router.rpc(
      m.unary as never,
      (async (req: Struct, ctx: HandlerContext) => {
        events.push(`unary:${JSON.stringify(json(req))}`)
        return struct(reply(ctx))
      }) as never,
    )
    router.rpc(
      m.other as never,
      (async (_req: Struct, ctx: HandlerContext) => {
        events.push('other')
        return struct(reply(ctx))
      }) as never,
    )
    router.rpc(
      m.serverStream as never,
      async function* (req: Struct, ctx: HandlerContext) {
        events.push(`serverStream:${JSON.stringify(json(req))}`)
        for (let i = 0; i < 2; i++) yield struct({ i, ...reply(ctx) })
      } as never,
    )
    router.rpc(
      m.clientStream as never,
      (async (reqs: AsyncIterable<Struct>, ctx: HandlerContext) => {
        events.push('clientStream:start')
        let count = 0
        for await (const r of reqs) {
          count++
          events.push(`clientStream:${JSON.stringify(json(r))}`)
        }
        return struct({ count, ...reply(ctx) })
      }) as never,
    )
    router.rpc(
      m.bidi as never,
      async function* (reqs: AsyncIterable<Struct>, ctx: HandlerContext) {
        events.push('bidi:start')
        for await (const r of reqs) {
          events.push(`bidi:${JSON.stringify(json(r))}`)
          yield struct({ echo: json(r), ...reply(ctx) })
        }
      } as never,
    )
  }
}

/** A connect-node server on an HTTP/2 TLS listener (HTTP/1.1 allowed) with client certificates requested. */
export async function startServer(options: {
  svid: TestX509Svid
  bundles: ConstructorParameters<typeof StaticSource>[0]['bundles']
  interceptors: Interceptor[]
  contextValues?: (req: http2.Http2ServerRequest | import('node:http').IncomingMessage) => ContextValues
  events?: Events
  reply?: Reply
  /** The listener's client-certificate mode (default `requested`: the interceptor verifies). */
  clientCertificate?: 'required' | 'requested'
}): Promise<{ port: number; close(): Promise<void> }> {
  const source = new StaticSource({ svid: options.svid, bundles: options.bundles })
  const handler = connectNodeAdapter({
    routes: echoRoutes(options.events ?? [], options.reply),
    interceptors: options.interceptors,
    ...(options.contextValues ? { contextValues: options.contextValues } : {}),
  })
  const mtls =
    options.clientCertificate === 'required'
      ? createMtlsServerConfig({ source, authorize: () => true })
      : createMtlsServerConfig({ source, clientCertificate: 'requested' })
  const server = mtls.attach(http2.createSecureServer({ ...mtls.serverOptions, allowHTTP1: true }, handler))
  const listening = await listenHttp2(server, HOST)
  return {
    port: listening.port,
    async close() {
      await listening.close()
      await source.close()
    },
  }
}

export type Protocol = 'connect' | 'grpc' | 'grpc-web'

/** A client of Echo over `protocol`, trusting `ca`, presenting `svid` (or no certificate). */
export function echoClient(
  port: number,
  options: { protocol: Protocol; ca: string; svid?: TestX509Svid; httpVersion?: '1.1' | '2' },
) {
  const baseUrl = `https://${HOST}:${port}`
  const tls = {
    ca: options.ca,
    ...(options.svid ? { cert: options.svid.certificatesPem, key: options.svid.privateKeyPem } : {}),
    // The server presents its X.509-SVID; these tests do not check its name.
    checkServerIdentity: () => undefined,
  }
  const httpVersion = options.httpVersion ?? '2'
  const sessionManager =
    httpVersion === '2'
      ? new Http2SessionManager(baseUrl, {}, tls as http2.SecureClientSessionOptions)
      : undefined
  const common = {
    baseUrl,
    httpVersion,
    nodeOptions: tls,
    ...(sessionManager ? { sessionManager } : {}),
  } as const
  const transport: Transport =
    options.protocol === 'connect'
      ? createConnectTransport(common as never)
      : options.protocol === 'grpc'
        ? createGrpcTransport(common as never)
        : createGrpcWebTransport(common as never)
  const client = createClient(Echo, transport) as unknown as Record<string, (...args: unknown[]) => unknown>
  return { client, close: () => sessionManager?.abort() }
}

/** Rejects after `ms`: every network wait in these tests is bounded. */
export function within<T>(promise: Promise<T>, ms = 5000, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
