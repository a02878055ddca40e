import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { requireCaller, svid } from '@svidkit/express'
import type express from 'express'
import type { RequestHandler } from 'express'
import { callerView, type E2eAdapter, tlsServerOptions } from '../harness/adapter.js'

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
