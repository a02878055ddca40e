import type { AddressInfo } from 'node:net'
import svidkit from '@svidkit/fastify'
import type Fastify from 'fastify'
import { callerView, type E2eAdapter, routeAuthSpecOf, tlsServerOptions } from '../harness/adapter.js'

/** `@svidkit/fastify` on an HTTPS Fastify server (`createFastify` is Fastify 5's or 4's factory). */
export function fastifyAdapter(name: string, createFastify: typeof Fastify): E2eAdapter {
  return {
    name,
    async start(config) {
      const app = createFastify({ https: tlsServerOptions(config.tls) })
      await app.register(svidkit, config.verifier)
      for (const route of config.routes) {
        app.get(route.path, { config: { svid: routeAuthSpecOf(route.access) } }, (request) => ({
          caller: callerView(request.caller),
        }))
      }
      await app.listen({ host: config.host, port: 0 })
      const { port } = app.server.address() as AddressInfo
      return { url: `https://${config.host}:${port}`, close: () => app.close() }
    },
  }
}
