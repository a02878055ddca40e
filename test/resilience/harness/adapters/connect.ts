import http2 from 'node:http2'
import type { Server as TlsServer } from 'node:tls'
import { fromJson, type JsonObject } from '@bufbuild/protobuf'
import { StructSchema } from '@bufbuild/protobuf/wkt'
import { type ContextValues, createContextKey, createContextValues } from '@connectrpc/connect'
import { connectNodeAdapter } from '@connectrpc/connect-node'
import { callerKey, createSvidkitInterceptor, svidkitContextValues } from '@svidkit/connect'
import { structService } from '../../../e2e/adapters/connect.js'
import { listenHttp2 } from '../../../e2e/harness/listen-http2.js'
import { grpcClient, RESILIENCE_METHODS } from '../grpc-call.js'
import type { Operation, ResilienceAdapter } from '../service.js'

/** When the call's request arrived, set before svidkit's interceptor runs. */
const arrivedAt = createContextKey<number>(0, { description: 'resilience arrival' })

/**
 * `@svidkit/connect` on a connect-node server (`connectNodeAdapter` on `http2.createSecureServer`,
 * TLS from `config.tls`: client certificate requested, judged by svidkit; the SVID rotates with the
 * service's source), `whoami` and `healthz` (public) as two JSON unary methods of
 * `svidkit.resilience.Service`, called over gRPC with JSON messages (`application/grpc+json`).
 */
export const connectAdapter: ResilienceAdapter = {
  name: 'connect',
  transport: 'connect',
  async start(config) {
    const method = (operation: Operation) => RESILIENCE_METHODS[operation].split('/')[2]!
    const service = structService('svidkit.resilience.Service', [method('whoami'), method('healthz')])
    const handler = connectNodeAdapter({
      routes: (router) => {
        for (const operation of ['whoami', 'healthz'] as const) {
          const desc = service.methods.find((m) => m.name === method(operation))!
          router.rpc(
            desc as never,
            ((_req: unknown, ctx: { values: ContextValues }) =>
              fromJson(
                StructSchema,
                config.respond(operation, ctx.values.get(callerKey), ctx.values.get(arrivedAt)) as JsonObject,
              )) as never,
          )
        }
      },
      interceptors: [
        createSvidkitInterceptor({
          ...config.verifier,
          methods: { [RESILIENCE_METHODS.healthz]: { public: true } },
        }),
      ],
      contextValues: (req) => svidkitContextValues(req, createContextValues().set(arrivedAt, Date.now())),
    })
    const server = http2.createSecureServer(
      {
        ...config.tls.options,
        ...(config.maxHeaderSize === undefined ? {} : { maxHeaderSize: config.maxHeaderSize }),
      },
      handler,
    )
    config.tls.attach(server as unknown as TlsServer)
    const listening = await listenHttp2(server, config.host)
    return { url: `https://${config.host}:${listening.port}`, close: listening.close }
  },
  ...grpcClient('application/grpc+json'),
}
