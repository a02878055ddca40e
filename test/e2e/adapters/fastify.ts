import type { AddressInfo } from 'node:net'
import svidkit from '@svidkit/fastify'
import type Fastify from 'fastify'
import { callerView, type E2eAdapter, routeAuthSpecOf, tlsServerOptions } from '../harness/adapter.js'
import type { RoutingAdapter } from '../harness/routing-table.js'

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

const LOOSE = {
  caseSensitive: false,
  ignoreTrailingSlash: true,
  ignoreDuplicateSlashes: true,
  useSemicolonDelimiter: true,
} as const

/**
 * `@svidkit/fastify` for the routing table. Routers: `default`; `loose` (every loose router option,
 * top level); on Fastify 5 also `loose-router-options` (the same in `routerOptions`) and
 * `strict-semicolons-off` (Fastify 4's `;` delimiter turned off).
 */
export function fastifyRoutingAdapter(
  name: string,
  createFastify: typeof Fastify,
  major: 4 | 5,
): RoutingAdapter {
  return {
    name,
    routers:
      major === 5 ? ['default', 'loose', 'loose-router-options'] : ['default', 'loose', 'no-semicolons'],
    async start(config) {
      const router =
        config.router === 'loose'
          ? LOOSE
          : config.router === 'loose-router-options'
            ? { routerOptions: LOOSE }
            : config.router === 'no-semicolons'
              ? { useSemicolonDelimiter: false }
              : {}
      const app = createFastify({ https: tlsServerOptions(config.tls), ...router } as Parameters<
        typeof Fastify
      >[0])
      await app.register(svidkit, { ...config.verifier })
      for (const route of config.routes) {
        const svid =
          route.access === 'public'
            ? { public: true }
            : route.access === 'optional'
              ? { optional: true }
              : undefined
        app.route({
          method: route.method,
          url: route.template,
          config: { svid },
          handler: (request) => {
            config.record({
              route,
              params: { ...(request.params as Record<string, string>) },
              requestMethod: request.method,
              caller: request.caller,
            })
            return { caller: callerView(request.caller) }
          },
        })
      }
      await app.listen({ host: config.host, port: 0 })
      const { port } = app.server.address() as AddressInfo
      return { url: `https://${config.host}:${port}`, close: () => app.close() }
    },
  }
}
