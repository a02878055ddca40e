// The ESM smoke script, run in a fresh project where the packed tarballs are installed from files
// (test/packaging/setup/global-setup.ts). Prints one JSON object of observations; the tests assert them.
import { once } from 'node:events'
import { createServer } from 'node:http'
import { main } from '@svidkit/cli'
import { SpiffeId } from '@svidkit/core'
import { isSvidkitError, SpiffeIdError, SvidkitError } from '@svidkit/core/errors'
import { svid } from '@svidkit/express'
import { svidkitFastify } from '@svidkit/fastify'
import { TestCA } from '@svidkit/testing'
import express from 'express'
import Fastify from 'fastify'

const out = {}
const ca = await TestCA.create({ trustDomain: 'example.org' })
const token = await ca.mintJwtSvid({ subject: '/ns/shop/sa/web', audience: 'orders' })
const options = { bundles: ca.bundleSet(), jwt: { audience: 'orders' }, mtls: false }

out.spiffeId = SpiffeId.parse('spiffe://example.org/ns/shop/sa/web').path
try {
  SpiffeId.parse('spiffe://example.org/a/')
} catch (err) {
  // One error class identity across the root entry and the /errors subpath.
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
  stdout: (t) => (printed += t),
  stderr: () => {},
  stdin: process.stdin,
})
out.cli = { code, spiffeId: JSON.parse(printed).spiffeId }

console.log(JSON.stringify(out))
