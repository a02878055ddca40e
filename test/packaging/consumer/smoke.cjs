// The CommonJS smoke script: the same observations as smoke.mjs, through require().
const { once } = require('node:events')
const { createServer } = require('node:http')
const { main } = require('@svidkit/cli')
const { SpiffeId } = require('@svidkit/core')
const { isSvidkitError, SpiffeIdError, SvidkitError } = require('@svidkit/core/errors')
const { svid } = require('@svidkit/express')
const { svidkitFastify } = require('@svidkit/fastify')
const { TestCA } = require('@svidkit/testing')
const express = require('express')
const Fastify = require('fastify')

async function run() {
  const out = {}
  const ca = await TestCA.create({ trustDomain: 'example.org' })
  const token = await ca.mintJwtSvid({ subject: '/ns/shop/sa/web', audience: 'orders' })
  const options = { bundles: ca.bundleSet(), jwt: { audience: 'orders' }, mtls: false }

  out.spiffeId = SpiffeId.parse('spiffe://example.org/ns/shop/sa/web').path
  try {
    SpiffeId.parse('spiffe://example.org/a/')
  } catch (err) {
    out.error = {
      code: err.code,
      subclass: err instanceof SpiffeIdError,
      base: err instanceof SvidkitError,
      is: isSvidkitError(err),
    }
  }

  const app = Fastify()
  await app.register(svidkitFastify, options)
  app.get('/', (request) => ({ caller: request.caller?.spiffeId?.toString() }))
  const allowed = await app.inject({ url: '/', headers: { authorization: `Bearer ${token}` } })
  const refused = await app.inject({ url: '/' })
  out.fastify = {
    allowed: [allowed.statusCode, allowed.json().caller],
    refused: [refused.statusCode, refused.json().code],
  }
  await app.close()

  const web = express()
  web.use(svid(options))
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

  let printed = ''
  const code = await main(['id', 'spiffe://example.org/ns/shop/sa/web', '--json'], {
    stdout: (t) => {
      printed += t
    },
    stderr: () => {},
    stdin: process.stdin,
  })
  out.cli = { code, spiffeId: JSON.parse(printed).spiffeId }
  console.log(JSON.stringify(out))
}

run().catch((err) => {
  console.error(err)
  process.exit(1)
})
