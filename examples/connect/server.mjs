// A Connect order service on @svidkit/connect, with its identity from the dev Workload API agent:
// - one HTTP/2 TLS listener (core's createMtlsServerConfig) presenting the SVID of
//   spiffe://example.org/orders, rotated as the agent re-issues it, for Connect, gRPC and gRPC-web;
// - createSvidkitInterceptor: who may call which method, by a policy whose rules name gRPC methods
//   (the same rules a grpc-js service on @svidkit/grpc uses);
// - callerOf(ctx): the verified caller in the handlers.
//
//   node server.mjs          # then, in another terminal: node client.mjs
//   node server.mjs --demo   # runs client.mjs once, then exits with its status
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http2 from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectNodeAdapter } from '@connectrpc/connect-node'
import { callerOf, createSvidkitInterceptor, svidkitContextValues } from '@svidkit/connect'
import { createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { X509Source } from '@svidkit/core/workload-api'
import { DevAgent } from '@svidkit/testing'
import { Orders } from './gen/orders/v1/orders_pb.js'

const STATE_FILE = join(tmpdir(), 'svidkit-connect-example.json')
const ID = (name) => `spiffe://example.org/${name}`

// 1. The dev agent: one Workload API socket per workload (it attests callers by socket).
const dir = mkdtempSync(join(tmpdir(), 'svidkit-connect-example-'))
const agent = await DevAgent.start({
  trustDomain: 'example.org',
  sockets: ['orders', 'web', 'admin'].map((name) => ({
    name,
    socketPath: join(dir, `${name}.sock`),
    identities: [{ spiffeId: `/${name}` }],
  })),
  svidTtlSeconds: 60,
})
const socketOf = (name) => agent.sockets.find((s) => s.name === name).address

// 2. The service's own identity, live from the agent.
const source = await X509Source.create({ address: socketOf('orders'), timeoutMs: 10_000 })

// 3. Who may call what: a policy by gRPC method, whatever the protocol of the call.
const policy = definePolicy({
  defaultAction: 'deny',
  rules: [
    {
      id: 'read-orders',
      action: 'ALLOW',
      from: [{ principals: [ID('web'), ID('admin')] }],
      to: [{ grpcMethods: ['/orders.v1.Orders/GetOrder'] }],
    },
    {
      id: 'delete-orders',
      action: 'ALLOW',
      from: [{ principals: [ID('admin')] }],
      to: [{ grpcMethods: ['/orders.v1.Orders/DeleteOrder'] }],
    },
  ],
})

const orders = new Map([[42, 'a blue teapot']])
const handler = connectNodeAdapter({
  routes: (router) =>
    router.service(Orders, {
      getOrder(req, ctx) {
        return { id: req.id, item: orders.get(req.id) ?? '', servedTo: callerOf(ctx).spiffeId.toString() }
      },
      deleteOrder(req) {
        return { deleted: orders.delete(req.id) }
      },
    }),
  interceptors: [
    createSvidkitInterceptor({
      bundles: source,
      self: source,
      authorizer: createPolicyAuthorizer(policy),
      audit: {
        logger: {
          info: (e) => console.log(`[server] allow ${e.operation.method} for ${e.caller} (rule ${e.rule})`),
          warn: (e) => console.log(`[server] deny ${e.operation.method} for ${e.caller}: ${e.reason}`),
        },
        telemetry: false,
      },
    }),
  ],
  contextValues: svidkitContextValues,
})

// 4. The listener: client certificates requested in the handshake, verified per connection by the
// interceptor (so a refusal says why, with a Connect error code, instead of a TLS alert).
const mtls = createMtlsServerConfig({ source, clientCertificate: 'requested' })
const server = mtls.attach(http2.createSecureServer({ ...mtls.serverOptions, allowHTTP1: true }, handler))
await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve))
const baseUrl = `https://127.0.0.1:${server.address().port}`
writeFileSync(
  STATE_FILE,
  JSON.stringify({
    baseUrl,
    serverId: ID('orders'),
    sockets: { web: socketOf('web'), admin: socketOf('admin') },
  }),
)
console.log(`[server] listening on ${baseUrl} as ${source.getX509Svid().id}`)

async function shutdown(code = 0) {
  server.close()
  await source.close()
  await agent.close()
  rmSync(STATE_FILE, { force: true })
  rmSync(dir, { recursive: true, force: true })
  process.exit(code)
}
process.once('SIGINT', () => shutdown(0))
process.once('SIGTERM', () => shutdown(0))

if (process.argv.includes('--demo')) {
  const client = spawn(process.execPath, [new URL('./client.mjs', import.meta.url).pathname], {
    stdio: 'inherit',
  })
  const timer = setTimeout(() => client.kill(), 30_000)
  client.on('exit', (code) => {
    clearTimeout(timer)
    shutdown(code ?? 1)
  })
}
