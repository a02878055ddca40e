import type { AddressInfo } from 'node:net'
import type { Server as TlsServer } from 'node:tls'
import svidkit from '@svidkit/fastify'
import Fastify from 'fastify'
import { httpsCall, httpsCallRaw } from '../https-call.js'
import type { ResilienceAdapter } from '../service.js'

/** `@svidkit/fastify` 5 on HTTPS, with Fastify's own logger (pino) at level trace into `config.log`. */
export const fastifyAdapter: ResilienceAdapter = {
  name: 'fastify',
  async start(config) {
    const app = Fastify({
      https: {
        ...config.tls.options,
        ...(config.maxHeaderSize === undefined ? {} : { maxHeaderSize: config.maxHeaderSize }),
      },
      logger: config.log ? { level: 'trace', stream: config.log } : false,
    })
    config.tls.attach(app.server as unknown as TlsServer)
    await app.register(svidkit, config.verifier)
    // reply.elapsedTime counts from the request's arrival, before svidkit's onRequest hook.
    app.get('/whoami', (request, reply) =>
      config.respond('whoami', request.caller, Date.now() - reply.elapsedTime),
    )
    app.get('/healthz', { config: { svid: { public: true } } }, (request, reply) =>
      config.respond('healthz', request.caller, Date.now() - reply.elapsedTime),
    )
    await app.listen({ host: config.host, port: 0 })
    const { port } = app.server.address() as AddressInfo
    return { url: `https://${config.host}:${port}`, close: () => app.close() }
  },
  call: httpsCall,
  callRaw: httpsCallRaw,
}
