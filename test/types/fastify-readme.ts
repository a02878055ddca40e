import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { matchId } from '@svidkit/core/spiffe-id'
import { BundleSource, X509Source } from '@svidkit/core/workload-api'
import svidkit from '@svidkit/fastify'
import Fastify from 'fastify'

// The Usage snippet of packages/fastify/README.md, type-checked (keep the two in sync).
declare const key: string
declare const cert: string

// From the SPIFFE Workload API (SPIFFE_ENDPOINT_SOCKET): our own SVID, and every trust bundle.
const svid = await X509Source.create()
const bundles = await BundleSource.create()

const app = Fastify({
  // mTLS: ask for the client certificate and let svidkit (not OpenSSL) judge it.
  https: { key, cert, requestCert: true, rejectUnauthorized: false },
})

await app.register(svidkit, {
  bundles,
  self: svid,
  jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
  // The sidecar that writes XFCC is known by its SVID: over mTLS, never trust a proxy by address.
  xfcc: {
    trustedPeers: { spiffeId: matchId('spiffe://example.org/ns/shop/sa/envoy') },
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
