// One benchmark server: `node bench/grpc/server.mjs <config> <fixture.json>`; prints `READY <port>`.
import * as grpc from '@grpc/grpc-js'
import { parseBundleMap } from '@svidkit/core/bundle'
import { authorizeMemberOf } from '@svidkit/core/policy'
import { StaticSource } from '@svidkit/core/source'
import { parseX509Svid } from '@svidkit/core/x509-svid'
import { callerOf, serveSvid, svidInterceptor } from '@svidkit/grpc'
import { readFixture, TRUST_DOMAIN } from '../http/fixture.mjs'
import { CONFIGS, ECHO, REPLY } from './common.mjs'

const [config, fixtureFile] = process.argv.slice(2)
if (!CONFIGS.includes(config) || !fixtureFile) {
  console.error(`usage: node server.mjs <${CONFIGS.join('|')}> <fixture.json>`)
  process.exit(2)
}
const fx = readFixture(fixtureFile)

let port
const passOn = (_method, call) =>
  new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({ onReceiveMetadata: (metadata, mdNext) => mdNext(metadata) })
    },
  })

if (config === 'bare-mtls' || config === 'noop-interceptor' || config === 'authctx') {
  const interceptors =
    config === 'noop-interceptor'
      ? [passOn]
      : config === 'authctx'
        ? [
            (_method, call) =>
              new grpc.ServerInterceptingCall(call, {
                start(next) {
                  next({
                    onReceiveMetadata(metadata, mdNext) {
                      // What an interceptor reading the peer certificate the grpc-js way pays per call.
                      const subject = call.getAuthContext().sslPeerCertificate?.subjectaltname
                      if (subject === undefined)
                        call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'no cert' })
                      else mdNext(metadata)
                    },
                  })
                },
              }),
          ]
        : []
  const server = new grpc.Server({ interceptors })
  server.addService(ECHO, { unary: (_call, callback) => callback(null, REPLY) })
  const credentials = grpc.ServerCredentials.createSsl(
    Buffer.from(fx.caPem),
    [{ private_key: Buffer.from(fx.server.key), cert_chain: Buffer.from(fx.server.cert) }],
    true,
  )
  port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  )
} else {
  const bundles = parseBundleMap(fx.bundleMap)
  const source = new StaticSource({
    svid: parseX509Svid(fx.server.cert, fx.server.key),
    bundles,
  })
  const server = new grpc.Server({
    interceptors: [
      svidInterceptor({
        bundles,
        self: source,
        audit: false,
        ...(config === 'svidkit-jwt' ? { jwt: { audience: fx.audience } } : {}),
      }),
    ],
  })
  server.addService(ECHO, {
    unary: (call, callback) => {
      if (callerOf(call) === undefined) callback({ code: grpc.status.INTERNAL, details: 'no caller' })
      else callback(null, REPLY)
    },
  })
  const listener = await serveSvid(server, {
    address: '127.0.0.1:0',
    source,
    authorize: authorizeMemberOf(TRUST_DOMAIN),
  })
  port = listener.port
}
console.log(`READY ${port}`)
process.on('SIGTERM', () => process.exit(0))
