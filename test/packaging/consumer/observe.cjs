// What both smoke scripts observe, given the modules each loaded its own way (smoke.mjs with import,
// smoke.cjs with require): the tarballs must behave the same from both module systems.
const { once } = require('node:events')
const { createServer } = require('node:http')

/** Runs core, the adapters and the CLI once and returns what happened. */
module.exports = async function observe(m) {
  const out = {}
  const ca = await m.TestCA.create({ trustDomain: 'example.org' })
  const token = await ca.mintJwtSvid({ subject: '/ns/shop/sa/web', audience: 'orders' })
  const options = { bundles: ca.bundleSet(), jwt: { audience: 'orders' }, mtls: false }

  out.spiffeId = m.SpiffeId.parse('spiffe://example.org/ns/shop/sa/web').path
  try {
    m.SpiffeId.parse('spiffe://example.org/a/')
  } catch (err) {
    // One error class identity across the root entry and the /errors subpath.
    out.error = {
      code: err.code,
      subclass: err instanceof m.SpiffeIdError,
      base: err instanceof m.SvidkitError,
      is: m.isSvidkitError(err),
    }
  }

  const app = m.Fastify()
  await app.register(m.svidkitFastify, options)
  app.get('/', (request) => ({ caller: request.caller?.spiffeId?.toString() }))
  const allowed = await app.inject({ url: '/', headers: { authorization: `Bearer ${token}` } })
  const refused = await app.inject({ url: '/' })
  out.fastify = {
    allowed: [allowed.statusCode, allowed.json().caller],
    refused: [refused.statusCode, refused.json().code],
  }
  await app.close()

  const web = m.express()
  web.use(m.svid(options))
  web.get('/', (req, res) => {
    res.json({ caller: req.caller?.spiffeId?.toString() })
  })
  const server = createServer(web).listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${server.address().port}/`
  const a = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  })
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) })
  out.express = { allowed: [a.status, (await a.json()).caller], refused: [r.status, (await r.json()).code] }
  server.close()

  // @svidkit/nestjs: a Nest application (Express platform) with the global guard; the decorators are
  // applied by hand, as TypeScript's decorator output applies them.
  const n = m.nest
  class WhoController {
    who(caller) {
      return { caller: caller?.spiffeId?.toString() }
    }
  }
  n.Caller()(WhoController.prototype, 'who', 0)
  n.Get()(WhoController.prototype, 'who', Object.getOwnPropertyDescriptor(WhoController.prototype, 'who'))
  n.Controller()(WhoController)
  class AppModule {}
  n.Module({ imports: [n.SvidkitModule.forRoot(options)], controllers: [WhoController] })(AppModule)
  const nestApp = await n.NestFactory.create(AppModule, { logger: false })
  await nestApp.listen(0, '127.0.0.1')
  const nestUrl = `http://127.0.0.1:${nestApp.getHttpServer().address().port}/`
  const na = await fetch(nestUrl, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  })
  const nr = await fetch(nestUrl, { signal: AbortSignal.timeout(5000) })
  out.nest = { allowed: [na.status, (await na.json()).caller], refused: [nr.status, (await nr.json()).code] }
  await nestApp.close()

  let printed = ''
  const code = await m.main(['id', 'spiffe://example.org/ns/shop/sa/web', '--json'], {
    stdout: (t) => {
      printed += t
    },
    stderr: () => {},
    stdin: process.stdin,
  })
  out.cli = { code, spiffeId: JSON.parse(printed).spiffeId }
  return out
}
