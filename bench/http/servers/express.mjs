// One Express 5 server per process: `node bench/http/servers/express.mjs <config> <port>`.
// Prints `READY <port>` once listening on 127.0.0.1. Every configuration answers `GET /hello` with
// the same body; the authenticated ones check that their caller is set before answering.
import http from 'node:http'
import https from 'node:https'
import { svid } from '@svidkit/express'
import express from 'express'
import { expressjwt } from 'express-jwt'
import { auth } from 'express-oauth2-jwt-bearer'
import {
  anchorKey,
  BODY,
  floorCheck,
  floorJwsCheck,
  mtlsServerConfig,
  naiveMtls,
  naiveXfccCheck,
  PATH,
  parseArgs,
  plainTlsOptions,
  ready,
  svidkitOptions,
} from './common.mjs'

const { config, port, fixture } = parseArgs('express')

const app = express()
let handler = (_req, res) => res.send(BODY)
const svidkitConfig = svidkitOptions(config, fixture)
if (svidkitConfig) {
  app.use(svid(svidkitConfig))
  handler = (req, res) => (req.caller ? res.send(BODY) : res.status(500).send('no caller'))
} else if (config === 'express-jwt') {
  // express-jwt as its README uses it: the PEM public key, the algorithm and the audience.
  const { pem, audience } = anchorKey(fixture)
  app.use(expressjwt({ secret: pem, algorithms: ['ES256'], audience }))
  handler = (req, res) => (req.auth ? res.send(BODY) : res.status(500).send('no auth'))
} else if (config === 'express-oauth2-jwt-bearer') {
  // Auth0's middleware with a static PEM key (no discovery). A JWT-SVID has no `iss`: the library
  // requires an issuer option, so its `iss` validator is turned off.
  const { pem, audience } = anchorKey(fixture)
  app.use(
    auth({
      issuer: 'spiffe://example.org',
      publicKey: pem,
      tokenSigningAlg: 'ES256',
      audience,
      validators: { iss: false },
    }),
  )
  handler = (req, res) => (req.auth ? res.send(BODY) : res.status(500).send('no auth'))
} else if (config === 'hook-noop') {
  // The cost of one more middleware layer itself, for reading the svidkit rows.
  app.use((_req, _res, next) => next())
} else if (config === 'naive-xfcc') {
  const check = naiveXfccCheck(fixture)
  app.use((req, res, next) => {
    if (check(req.headers['x-forwarded-client-cert'])) next()
    else res.status(403).send('forbidden')
  })
} else if (config === 'naive-mtls') {
  const { check } = naiveMtls(fixture)
  app.use((req, res, next) => {
    if (check(req.socket)) next()
    else res.status(403).send('forbidden')
  })
} else if (config === 'floor' || config === 'floor-jws') {
  const check = config === 'floor' ? floorCheck(fixture) : floorJwsCheck(fixture)
  app.use((req, res, next) => {
    if (check(req.headers.authorization)) next()
    else res.status(401).send('unauthorized')
  })
}
app.get(PATH, handler)
// Refusals answer 401/400/403 with a short body, never an HTML stack trace.
app.use((err, _req, res, _next) => {
  res.status(err.status ?? err.statusCode ?? 500).send(err.code ?? 'error')
})

let server
if (config === 'svidkit-mtls') {
  const mtls = mtlsServerConfig(fixture)
  server = mtls.attach(https.createServer({ ...mtls.serverOptions }, app))
} else if (config === 'tls-bare') {
  server = https.createServer(plainTlsOptions(fixture), app)
} else if (config === 'naive-mtls') {
  server = https.createServer(naiveMtls(fixture).serverOptions, app)
} else {
  server = http.createServer(app)
}
server.listen(port, '127.0.0.1', () => ready(server.address().port))
