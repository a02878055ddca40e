// The web workload calls the order service with SPIFFE channel credentials: its own X.509-SVID from
// the dev agent, and the server accepted only if it is spiffe://example.org/orders. Reading an order
// is allowed; deleting one is refused by the server's policy.
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { authorizeId } from '@svidkit/core/policy'
import { X509Source } from '@svidkit/core/workload-api'
import { svidChannelCredentials } from '@svidkit/grpc'
import { Orders, STATE_FILE_NAME } from './orders.mjs'

let state
try {
  state = JSON.parse(readFileSync(join(tmpdir(), STATE_FILE_NAME), 'utf8'))
} catch {
  console.error('start the server first: node server.mjs')
  process.exit(2)
}

const source = await X509Source.create({ address: state.sockets.web, timeoutMs: 10_000 })
const me = source.getX509Svid().id
// The server is authorized by its SPIFFE ID, never by a host name. The name override only gives TLS
// a server name to send (an IP address is not a valid one: Node warns, DEP0123).
const client = new Orders(
  state.target,
  svidChannelCredentials({ source, authorize: authorizeId(state.serverId) }),
  {
    'grpc.ssl_target_name_override': 'orders.example.org',
  },
)

/** One unary call, as a promise of `{ reply }` or `{ code, details }`. */
const call = (method, request) =>
  new Promise((resolve) =>
    client[method](request, { deadline: Date.now() + 5_000 }, (err, reply) =>
      resolve(err ? { code: err.code, details: err.details } : { reply }),
    ),
  )

const got = await call('getOrder', { id: 42 })
console.log(`[client ${me}] GetOrder 42 → ${JSON.stringify(got.reply ?? got)}`)
const deleted = await call('deleteOrder', { id: 42 })
console.log(
  `[client ${me}] DeleteOrder 42 → ${deleted.reply ? JSON.stringify(deleted.reply) : `${status[deleted.code]} (${deleted.code}): ${deleted.details}`}`,
)
client.close()
await source.close()

// The demo succeeds when the read got through and the delete was refused by the policy.
process.exit(got.reply?.item === 'a blue teapot' && deleted.code === status.PERMISSION_DENIED ? 0 : 1)
