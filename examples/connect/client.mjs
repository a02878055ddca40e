// The web workload calls the order service over gRPC with its own X.509-SVID from the dev agent,
// accepting the server only if it is spiffe://example.org/orders (core's createMtlsClientConfig, in
// place of a hostname check). Reading an order is allowed; deleting one is refused by the policy.
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Code, ConnectError, createClient } from '@connectrpc/connect'
import { createGrpcTransport } from '@connectrpc/connect-node'
import { svidkitCodeOf } from '@svidkit/connect'
import { authorizeId } from '@svidkit/core/policy'
import { createMtlsClientConfig } from '@svidkit/core/tls'
import { X509Source } from '@svidkit/core/workload-api'
import { Orders } from './gen/orders/v1/orders_pb.js'

let state
try {
  state = JSON.parse(readFileSync(join(tmpdir(), 'svidkit-connect-example.json'), 'utf8'))
} catch {
  console.error('start the server first: node server.mjs')
  process.exit(2)
}

const source = await X509Source.create({ address: state.sockets.web, timeoutMs: 10_000 })
const me = source.getX509Svid().id
// The TLS options of one connection: our current SVID, the bundle authorities, and the server
// authorized by its SPIFFE ID. (A long-lived client builds a new transport when its SVID rotates.)
const mtls = createMtlsClientConfig({ source, authorize: authorizeId(state.serverId) })
const transport = createGrpcTransport({ baseUrl: state.baseUrl, nodeOptions: mtls.connectOptions() })
const client = createClient(Orders, transport)

/** One call, as `{ reply }` or `{ code, svidkit, message }`. */
const call = async (method, request) => {
  try {
    return { reply: await client[method](request, { timeoutMs: 5_000 }) }
  } catch (err) {
    const e = ConnectError.from(err)
    return { code: e.code, svidkit: svidkitCodeOf(e), message: e.rawMessage }
  }
}

const got = await call('getOrder', { id: 42 })
console.log(
  `[client ${me}] GetOrder 42 → ${got.reply ? JSON.stringify({ id: got.reply.id, item: got.reply.item, servedTo: got.reply.servedTo }) : JSON.stringify(got)}`,
)
const deleted = await call('deleteOrder', { id: 42 })
console.log(
  `[client ${me}] DeleteOrder 42 → ${deleted.reply ? JSON.stringify({ deleted: deleted.reply.deleted }) : `${Code[deleted.code]} (${deleted.code}) ${deleted.svidkit}: ${deleted.message}`}`,
)
await source.close()

// The demo succeeds when the read got through and the delete was refused by the policy.
process.exit(got.reply?.item === 'a blue teapot' && deleted.code === Code.PermissionDenied ? 0 : 1)
