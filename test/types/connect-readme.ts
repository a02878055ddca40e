import http2 from 'node:http2'
import { connectNodeAdapter } from '@connectrpc/connect-node'
import { callerOf, createSvidkitInterceptor, svidkitContextValues } from '@svidkit/connect'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { BundleSource, X509Source } from '@svidkit/core/workload-api'
import { Orders } from './gen/orders/v1/orders_pb.js'

// The Usage snippet of packages/connect/README.md, type-checked (keep the two in sync).

// From the SPIFFE Workload API (SPIFFE_ENDPOINT_SOCKET): our own SVID, and every trust bundle.
const source = await X509Source.create()
const bundles = await BundleSource.create()

const handler = connectNodeAdapter({
  routes: (router) =>
    router.service(Orders, {
      getOrder(req, ctx) {
        const caller = callerOf(ctx) // the verified caller; fails closed when there is none
        return {
          id: req.id,
          servedTo: caller.channel === 'oidc' ? caller.principal.sub : caller.spiffeId.toString(),
        }
      },
    }),
  interceptors: [
    createSvidkitInterceptor({
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
  contextValues: svidkitContextValues, // hands each call's Node request (TLS socket, headers) to the interceptor
})

// One TLS listener for Connect, gRPC and gRPC-web: our SVID, rotated without a restart; client
// certificates requested here and verified per call by the interceptor (JWT-SVID-only clients too).
const mtls = createMtlsServerConfig({ source, clientCertificate: 'requested' })
const server = mtls.attach(http2.createSecureServer({ ...mtls.serverOptions, allowHTTP1: true }, handler))
server.listen(8443)
