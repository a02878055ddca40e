// One Fastify 5 server per process: `node bench/http/servers/fastify.mjs <config> <port>`.
// Prints `READY <port>` once listening on 127.0.0.1. Every configuration answers `GET /hello` with
// the same body; the authenticated ones check that their caller is set before answering.
import fastifyJwt from '@fastify/jwt'
import svidkit from '@svidkit/fastify'
import Fastify from 'fastify'
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

const { config, port, fixture } = parseArgs('fastify')

let mtls
let https
if (config === 'tls-bare') https = plainTlsOptions(fixture)
const naive = config === 'naive-mtls' ? naiveMtls(fixture) : undefined
if (naive) https = naive.serverOptions
if (config === 'svidkit-mtls') {
  mtls = mtlsServerConfig(fixture)
  https = { ...mtls.serverOptions }
}
const app = Fastify({ logger: false, ...(https ? { https } : {}) })
if (mtls) mtls.attach(app.server)

let handler = () => BODY
const svidkitConfig = svidkitOptions(config, fixture)
if (svidkitConfig) {
  await app.register(svidkit, svidkitConfig)
  handler = (request, reply) => (request.caller ? BODY : reply.code(500).send('no caller'))
} else if (config === 'fastify-jwt' || config === 'fastify-jwt-cache') {
  // @fastify/jwt as its README uses it: verify-only mode with the public key, an onRequest hook
  // awaiting request.jwtVerify(). `cache: true` turns on fast-jwt's verified-token cache.
  const { pem, audience } = anchorKey(fixture)
  await app.register(fastifyJwt, {
    secret: { public: pem },
    verify: {
      algorithms: ['ES256'],
      allowedAud: audience,
      ...(config === 'fastify-jwt-cache' ? { cache: true } : {}),
    },
  })
  app.addHook('onRequest', async (request) => {
    await request.jwtVerify()
  })
  handler = (request, reply) => (request.user ? BODY : reply.code(500).send('no user'))
} else if (config === 'hook-noop') {
  // The cost of an onRequest hook itself, for reading the svidkit rows.
  app.addHook('onRequest', (_request, _reply, done) => done())
} else if (config === 'naive-xfcc') {
  const check = naiveXfccCheck(fixture)
  app.addHook('onRequest', (request, reply, done) => {
    if (check(request.headers['x-forwarded-client-cert'])) done()
    else reply.code(403).send('forbidden')
  })
} else if (naive) {
  app.addHook('onRequest', (request, reply, done) => {
    if (naive.check(request.raw.socket)) done()
    else reply.code(403).send('forbidden')
  })
} else if (config === 'floor' || config === 'floor-jws') {
  const check = config === 'floor' ? floorCheck(fixture) : floorJwsCheck(fixture)
  app.addHook('onRequest', (request, reply, done) => {
    if (check(request.headers.authorization)) done()
    else reply.code(401).send('unauthorized')
  })
}
app.get(PATH, handler)

await app.listen({ host: '127.0.0.1', port })
ready(app.server.address().port)
