// A grpc-js order service on @svidkit/grpc, with its identity from the dev Workload API agent:
// - serveSvid: a TLS listener presenting the SVID of spiffe://example.org/orders (rotated as the agent
//   re-issues it), admitting only workloads of example.org in the handshake;
// - svidInterceptor: who may call which method, by a policy whose rules name gRPC methods, and the
//   standard health service public;
// - callerOf(call): the verified caller in the handlers.
//
//   node server.mjs          # then, in another terminal: node client.mjs
//   node server.mjs --demo   # runs client.mjs once, then exits with its status
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Server } from '@grpc/grpc-js'
import { authorizeMemberOf, createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import { X509Source } from '@svidkit/core/workload-api'
import { callerOf, serveSvid, svidInterceptor } from '@svidkit/grpc'
import { DevAgent } from '@svidkit/testing'
import { HealthImplementation } from 'grpc-health-check'
import { Orders, STATE_FILE_NAME } from './orders.mjs'

const STATE_FILE = join(tmpdir(), STATE_FILE_NAME)
const ID = (name) => `spiffe://example.org/${name}`

// 1. The dev agent: one Workload API socket per workload (it attests callers by socket).
const dir = mkdtempSync(join(tmpdir(), 'svidkit-grpc-example-'))
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

// 3. Who may call what: a policy by gRPC method.
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

const server = new Server({
  interceptors: [
    svidInterceptor({
      bundles: source,
      self: source,
      authorizer: createPolicyAuthorizer(policy),
      methods: { '/grpc.health.v1.Health/*': { public: true } },
      audit: {
        logger: {
          info: (e) => console.log(`[server] allow ${e.operation.method} for ${e.caller} (rule ${e.rule})`),
          warn: (e) => console.log(`[server] deny ${e.operation.method} for ${e.caller}: ${e.reason}`),
        },
        telemetry: false,
      },
    }),
  ],
})
const orders = new Map([[42, 'a blue teapot']])
server.addService(Orders.service, {
  getOrder(call, callback) {
    const item = orders.get(call.request.id)
    callback(null, { id: call.request.id, item: item ?? '', servedTo: callerOf(call).spiffeId.toString() })
  },
  deleteOrder(call, callback) {
    callback(null, { deleted: orders.delete(call.request.id) })
  },
})
new HealthImplementation({ '': 'SERVING', 'orders.v1.Orders': 'SERVING' }).addToServer(server)

// 4. The SVID listener: refused peers are cut in the handshake, before grpc-js sees them.
const listener = await serveSvid(server, {
  address: `127.0.0.1:${process.env.PORT ?? 0}`,
  source,
  authorize: authorizeMemberOf('example.org'),
})
const target = `127.0.0.1:${listener.port}`
writeFileSync(
  STATE_FILE,
  JSON.stringify({
    target,
    serverId: ID('orders'),
    sockets: { web: socketOf('web'), admin: socketOf('admin') },
  }),
)
console.log(`[server] listening on ${target} as ${source.getX509Svid().id}`)

async function shutdown(code = 0) {
  await listener.close()
  server.forceShutdown()
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
