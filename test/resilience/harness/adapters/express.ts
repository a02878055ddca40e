import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { svid } from '@svidkit/express'
import express from 'express'
import { httpsCall, httpsCallRaw } from '../https-call.js'
import type { ResilienceAdapter } from '../service.js'

/** `@svidkit/express` 5 on `https.createServer(app)` (Express has no logger of its own). */
export const expressAdapter: ResilienceAdapter = {
  name: 'express',
  async start(config) {
    const app = express()
    const auth = svid(config.verifier)
    const arrival = new WeakMap<object, number>()
    // First in the chain: when the request arrived, before svidkit verified it.
    app.use((req, _res, next) => {
      arrival.set(req, Date.now())
      next()
    })
    app.get('/whoami', auth, (req, res) => {
      res.json(config.respond('whoami', req.caller, arrival.get(req)!))
    })
    app.get('/healthz', (req, res) => {
      res.json(config.respond('healthz', req.caller, arrival.get(req)!))
    })
    const server = createServer(
      {
        ...config.tls.options,
        ...(config.maxHeaderSize === undefined ? {} : { maxHeaderSize: config.maxHeaderSize }),
      },
      app,
    )
    config.tls.attach(server)
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
  call: httpsCall,
  callRaw: httpsCallRaw,
}
