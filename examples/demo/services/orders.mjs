// The orders API, on Fastify: spiffe://demo.svidkit.dev/tenant/acme/ns/shop/sa/orders.
//
// - Its X.509-SVID and trust bundles come from the Workload API ($SPIFFE_ENDPOINT_SOCKET), live.
// - It terminates mTLS itself with core's createMtlsServerConfig: every connection must present an
//   X.509-SVID of demo.svidkit.dev (checked in the handshake); what the caller may do is decided per
//   request by the @svidkit/fastify plugin, with policies/orders.yaml.
// - Callers are named by, in this order: a client certificate forwarded by nginx (only from nginx's
//   address and with nginx's own SVID), a JWT-SVID bearer token, or the mTLS peer certificate.
// - An invoice reads the ledger's entries over gRPC, as orders itself (its own X.509-SVID).
//
//   SPIFFE_ENDPOINT_SOCKET=unix:///…/orders.sock node services/orders.mjs   (run.mjs does this)
import https from 'node:https'
import { fileURLToPath } from 'node:url'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { matchId, matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import svidkit from '@svidkit/fastify'
import Fastify from 'fastify'
import { callLedger, ledgerClient } from './ledger-api.mjs'
import {
  closeOnExit,
  demoAuditor,
  IDENTITY_TEMPLATE,
  NGINX_ID,
  NGINX_SOURCE_ADDRESS,
  report,
  workloadIdentity,
} from './service-kit.mjs'

const POLICY = fileURLToPath(new URL('../policies/orders.yaml', import.meta.url))

const { x509, jwt, bundles, selfId, svidInfo } = await workloadIdentity('orders')
const auditor = demoAuditor('orders')
// The ledger (gRPC), called with our own X.509-SVID; we accept only the ledger's SPIFFE ID.
const ledger = ledgerClient({ address: process.env.LEDGER_ADDRESS, ledgerId: process.env.LEDGER_ID, x509 })

// mTLS in the handshake: only X.509-SVIDs of our trust domain connect at all.
const mtls = createMtlsServerConfig({ source: x509, authorize: matchMemberOf('demo.svidkit.dev') })
const app = Fastify({
  serverFactory: (handler) => mtls.attach(https.createServer(mtls.serverOptions, handler)),
})

await app.register(svidkit, {
  bundles,
  self: x509,
  // Precedence when a request carries several credentials: the certificate nginx forwards (the mTLS
  // peer is then nginx), a JWT-SVID (it must name the same workload as the client certificate), then
  // the client certificate itself.
  channels: ['xfcc', 'jwt', 'mtls'],
  jwt: { audience: selfId },
  // nginx can only forward the client leaf as `$ssl_client_escaped_cert`, not an Envoy XFCC header:
  // the `nginx` preset decodes it, and the caller is reported with channel `xfcc`.
  forwardedCert: {
    format: 'nginx',
    header: 'ssl-client-cert',
    trustedPeers: { addresses: [NGINX_SOURCE_ADDRESS], spiffeId: matchId(NGINX_ID), require: 'both' },
  },
  identityTemplates: [IDENTITY_TEMPLATE],
  authorizer: createPolicyAuthorizer(loadPolicyFile(POLICY)),
  audit: auditor,
  realm: 'orders',
})

const orders = [
  { id: '1001', tenant: 'acme', item: 'rocket skates', qty: 2 },
  { id: '1002', tenant: 'acme', item: 'giant magnet', qty: 1 },
]
// Handlers answer with what they serve and who they served it to.
const reply = (request, data) => ({ servedTo: request.caller.spiffeId.toString(), ...data })

app.get('/healthz', { config: { svid: { public: true } } }, () => 'ok')
app.get('/orders', (request) => reply(request, { orders }))
app.get('/orders/export', (request) => reply(request, { exported: orders.length }))
app.get('/orders/:id', (request) => reply(request, { order: orders.find((o) => o.id === request.params.id) }))
app.get('/orders/:id/invoice', async (request) => {
  const entries = await callLedger(ledger, 'listEntries', { reference: request.params.id })
  return reply(request, { order: request.params.id, ledger: entries })
})
app.post('/orders', (request) => reply(request, { placed: true }))

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
report({
  type: 'ready',
  service: 'orders',
  id: selfId,
  serial: svidInfo().serial,
  url: `https://127.0.0.1:${app.server.address().port}`,
})

closeOnExit(async () => {
  app.server.closeAllConnections?.()
  await app.close()
  ledger.close()
  await jwt.close()
  await x509.close()
})
