import {
  credentials,
  Server,
  type ServerUnaryCall,
  type ServiceClientConstructor,
  type sendUnaryData,
} from '@grpc/grpc-js'
import { authorizeId, authorizeMemberOf, createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { BundleSource, JwtSource, X509Source } from '@svidkit/core/workload-api'
import {
  callerOf,
  jwtSvidCallCredentials,
  serveSvid,
  svidChannelCredentials,
  svidInterceptor,
} from '@svidkit/grpc'

// The Usage snippet of packages/grpc/README.md, type-checked (keep the two in sync).
declare const Orders: ServiceClientConstructor // loadPackageDefinition(loadSync('orders.proto')).orders.v1.Orders

// From the SPIFFE Workload API (SPIFFE_ENDPOINT_SOCKET): our own SVID, and every trust bundle.
const source = await X509Source.create()
const bundles = await BundleSource.create()

// Server: the interceptor authenticates and authorizes every call; serveSvid owns the TLS listener.
const server = new Server({
  interceptors: [
    svidInterceptor({
      bundles,
      self: source,
      jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
      authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')), // rules may name grpcMethods
      methods: {
        '/orders.v1.Orders/DeleteOrder': { callers: ['spiffe://example.org/ns/ops/sa/admin'] },
        '/grpc.health.v1.Health/*': { public: true },
      },
    }),
  ],
})
server.addService(Orders.service, {
  getOrder(call: ServerUnaryCall<{ id: number }, unknown>, callback: sendUnaryData<unknown>) {
    const caller = callerOf(call)! // set: the method requires a caller
    callback(null, { id: call.request.id, servedTo: caller.spiffeId?.toString() })
  },
})
const listener = await serveSvid(server, {
  address: '0.0.0.0:50051',
  source,
  authorize: authorizeMemberOf('example.org'), // who may even connect (checked in the handshake)
})
process.once('SIGTERM', () => listener.close())

// Client: present our SVID, accept only the orders service, send a JWT-SVID on every call too.
const jwtSource = await JwtSource.create()
const client = new Orders(
  'orders.shop.svc:50051',
  credentials.combineChannelCredentials(
    svidChannelCredentials({ source, authorize: authorizeId('spiffe://example.org/ns/shop/sa/orders') }),
    jwtSvidCallCredentials({ source: jwtSource, audience: 'spiffe://example.org/ns/shop/sa/orders' }),
  ),
)
client.waitForReady(Date.now() + 5_000, (err) =>
  console.log(err ?? 'connected to spiffe://example.org/ns/shop/sa/orders'),
)
