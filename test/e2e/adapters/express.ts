import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { requireCaller, svid } from '@svidkit/express'
import type express from 'express'
import type { RequestHandler } from 'express'
import { callerView, type E2eAdapter, tlsServerOptions } from '../harness/adapter.js'
import type { RoutingAdapter, RoutingRoute } from '../harness/routing-table.js'

/** `@svidkit/express` on `https.createServer(app)` (`createExpress` is Express 5's or 4's factory). */
export function expressAdapter(name: string, createExpress: typeof express): E2eAdapter {
  return {
    name,
    async start(config) {
      const app = createExpress()
      const auth = svid(config.verifier)
      const maybe = svid({ verifier: auth.verifier, optional: true })
      for (const route of config.routes) {
        const chain: RequestHandler[] = []
        const access = route.access
        if (access.kind !== 'public') {
          chain.push(access.kind === 'optional' ? maybe : auth)
          if (access.requirement) chain.push(requireCaller(access.requirement))
        }
        app.get(route.path, ...chain, (req, res) => {
          res.json({ caller: callerView(req.caller) })
        })
      }
      const server = createServer(tlsServerOptions(config.tls), app)
      await new Promise<void>((resolve) => server.listen(0, config.host, resolve))
      const { port } = server.address() as AddressInfo
      return {
        url: `https://${config.host}:${port}`,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          }),
      }
    },
  }
}

/**
 * `@svidkit/express` for the routing table, as a typical app is written: public and optional routes
 * first, then `app.use(svid())`, then the guarded routes. Routers: `default` (Express's own:
 * case-insensitive, trailing slash ignored), `strict` (`case sensitive routing` and `strict routing`
 * on), `sub-router` (the guarded routes in an `express.Router()` with the app's settings).
 */
export function expressRoutingAdapter(name: string, createExpress: typeof express): RoutingAdapter {
  return {
    name,
    routers: ['default', 'strict', 'sub-router'],
    async start(config) {
      const app = createExpress()
      if (config.router === 'strict') {
        app.set('case sensitive routing', true)
        app.set('strict routing', true)
      }
      const auth = svid(config.verifier)
      const maybe = svid({ verifier: auth.verifier, optional: true })
      const handler =
        (route: RoutingRoute): RequestHandler =>
        (req, res) => {
          config.record({
            route,
            params: { ...(req.params as Record<string, string>) },
            requestMethod: req.method,
            caller: req.caller,
          })
          res.json({ caller: callerView(req.caller) })
        }
      const guarded = config.router === 'sub-router' ? createExpress.Router() : app
      for (const route of config.routes.filter((r) => r.access !== 'policy')) {
        const chain: RequestHandler[] = route.access === 'optional' ? [maybe] : []
        app[route.method === 'GET' ? 'get' : 'post'](route.template, ...chain, handler(route))
      }
      app.use(auth)
      for (const route of config.routes.filter((r) => r.access === 'policy')) {
        guarded[route.method === 'GET' ? 'get' : 'post'](route.template, handler(route))
      }
      if (guarded !== app) app.use(guarded)
      const server = createServer(tlsServerOptions(config.tls), app)
      await new Promise<void>((resolve) => server.listen(0, config.host, resolve))
      const { port } = server.address() as AddressInfo
      return {
        url: `https://${config.host}:${port}`,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          }),
      }
    },
  }
}
