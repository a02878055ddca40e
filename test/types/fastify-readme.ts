import https from 'node:https'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { matchId, matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { BundleSource, X509Source } from '@svidkit/core/workload-api'
import svidkit from '@svidkit/fastify'
import Fastify from 'fastify'

// The Usage snippet of packages/fastify/README.md, type-checked here and run by
// test/e2e/readme-snippets.test.ts (keep the three in sync).

// From the SPIFFE Workload API (SPIFFE_ENDPOINT_SOCKET): our own SVID with the X.509 bundles, and the
// JWT bundles. Both stay current as the agent rotates them.
const svid = await X509Source.create()
const jwtBundles = await BundleSource.create({ x509: false })

// mTLS: the server presents the current SVID and, during the handshake, admits only X.509-SVIDs of
// example.org, each verified against its own trust domain's bundle.
const mtls = createMtlsServerConfig({ source: svid, authorize: matchMemberOf('example.org') })
const app = Fastify({
  serverFactory: (handler) => mtls.attach(https.createServer(mtls.serverOptions, handler)),
})

await app.register(svidkit, {
  bundles: [svid, jwtBundles],
  self: svid,
  jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
  // XFCC is believed only from the ingress proxy, named by the SVID of its own mTLS connection.
  xfcc: {
    trustedPeers: { spiffeId: matchId('spiffe://example.org/ns/istio-system/sa/ingress') },
    by: 'spiffe://example.org/ns/shop/sa/orders',
  },
  identityTemplates: ['/ns/{namespace}/sa/{serviceAccount}'],
  authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')),
})

app.get('/healthz', { config: { svid: { public: true } } }, () => 'ok')

app.get('/orders', { config: { svid: { scopes: ['orders:read'] } } }, (request) => {
  const caller = request.caller! // set: this route requires a caller
  return caller.channel === 'oidc'
    ? { user: caller.principal.sub }
    : { workload: caller.spiffeId.toString(), via: caller.channel }
})

app.get(
  '/same-namespace',
  { config: { svid: { boundary: { namespace: { sameAs: 'self' } } } } },
  (request) => ({
    caller: request.caller?.spiffeId?.toString(),
  }),
)

const canWrite = app.svid.require({ scopes: ['orders:write'] })
app.post('/orders', { preHandler: canWrite }, () => ({ ok: true }))

await app.listen({ host: '0.0.0.0', port: 8443 })
