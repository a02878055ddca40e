import {
  Server,
  ServerInterceptingCall,
  type ServerInterceptor,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js'
import { callerOf, serveSvid, svidInterceptor } from '@svidkit/grpc'
import { jsonUnaryMethod } from '../../../e2e/harness/grpc-client.js'
import { grpcClient, RESILIENCE_METHODS } from '../grpc-call.js'
import type { ResilienceAdapter } from '../service.js'

/**
 * `@svidkit/grpc` on a grpc-js `Server`: `svidInterceptor` with core's verifier options, TLS from the
 * service's source through `serveSvid` (client certificate requested, judged by svidkit; the SVID
 * rotates with the source), `whoami` and `healthz` (public) as two JSON unary methods.
 */
export const grpcAdapter: ResilienceAdapter = {
  name: 'grpc',
  transport: 'grpc',
  async start(config) {
    // First in the chain: when the call's metadata arrived, before svidkit verified it. The metadata
    // object is the one the handler gets (`call.metadata`), as svidkit's own caller lookup relies on.
    const arrivals = new WeakMap<object, number>()
    const arrival: ServerInterceptor = (_method, call) =>
      new ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata: (metadata, nextMetadata) => {
              arrivals.set(metadata, Date.now())
              nextMetadata(metadata)
            },
          }),
      })
    const server = new Server({
      interceptors: [
        arrival,
        svidInterceptor({ ...config.verifier, methods: { [RESILIENCE_METHODS.healthz]: { public: true } } }),
      ],
      ...(config.maxHeaderSize === undefined ? {} : { 'grpc.max_metadata_size': config.maxHeaderSize }),
    })
    const handler =
      (operation: 'whoami' | 'healthz') =>
      (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void =>
        callback(null, config.respond(operation, callerOf(call), arrivals.get(call.metadata) ?? Date.now()))
    server.addService(
      {
        Whoami: jsonUnaryMethod(RESILIENCE_METHODS.whoami),
        Healthz: jsonUnaryMethod(RESILIENCE_METHODS.healthz),
      },
      { Whoami: handler('whoami'), Healthz: handler('healthz') },
    )
    const listener = await serveSvid(server, {
      address: { host: config.host, port: 0 },
      source: config.tls.source,
      clientCertificate: 'requested',
      closeGraceMs: 0,
    })
    return {
      url: `https://${config.host}:${listener.port}`,
      async close() {
        await listener.close({ graceMs: 0 })
        server.forceShutdown()
      },
    }
  },
  ...grpcClient('application/grpc'),
}
