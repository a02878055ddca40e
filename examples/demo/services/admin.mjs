// The admin API, on Express: spiffe://demo.svidkit.dev/tenant/acme/ns/ops/sa/admin.
//
// - Its X.509-SVID and trust bundles come from the Workload API ($SPIFFE_ENDPOINT_SOCKET), live.
// - It terminates mTLS itself with core's createMtlsServerConfig (X.509-SVIDs of demo.svidkit.dev
//   only); each request is then verified by the `svid()` middleware of @svidkit/express with
//   policies/admin.yaml, and the admin routes also require a caller from the service's own namespace
//   (`requireCaller`).
//
//   SPIFFE_ENDPOINT_SOCKET=unix:///…/admin.sock node services/admin.mjs   (run.mjs does this)
import https from 'node:https'
import { fileURLToPath } from 'node:url'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { requireCaller, svid } from '@svidkit/express'
import express from 'express'
import { closeOnExit, demoAuditor, IDENTITY_TEMPLATE, report, workloadIdentity } from './service-kit.mjs'

const POLICY = fileURLToPath(new URL('../policies/admin.yaml', import.meta.url))

const { x509, jwt, bundles, selfId, svidInfo } = await workloadIdentity('admin')
const auditor = demoAuditor('admin')

const app = express()
app.get('/healthz', (_req, res) => {
  res.send('ok') // before svid(): public
})

app.use(
  svid({
    bundles,
    self: x509,
    // No proxy in front of this one: callers come with their client certificate and, optionally, a
    // JWT-SVID for the same workload, which then names the caller.
    channels: ['jwt', 'mtls'],
    jwt: { audience: selfId },
    identityTemplates: [IDENTITY_TEMPLATE],
    authorizer: createPolicyAuthorizer(loadPolicyFile(POLICY)),
    audit: auditor,
    realm: 'admin',
  }),
)

// The policy lets any workload of the tenant read /admin; these routes narrow it to our namespace (ops).
const sameNamespace = requireCaller({ id: 'same-namespace', boundary: { namespace: { sameAs: 'self' } } })

app.get('/admin/tenants/:tenant/usage', sameNamespace, (req, res) => {
  res.json({ servedTo: req.caller.spiffeId.toString(), tenant: req.params.tenant, orders: 2 })
})

// mTLS in the handshake: only X.509-SVIDs of our trust domain connect at all.
const mtls = createMtlsServerConfig({ source: x509, authorize: matchMemberOf('demo.svidkit.dev') })
const server = mtls.attach(https.createServer(mtls.serverOptions, app))
await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve))
report({
  type: 'ready',
  service: 'admin',
  id: selfId,
  serial: svidInfo().serial,
  url: `https://127.0.0.1:${server.address().port}`,
})

closeOnExit(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await jwt.close()
  await x509.close()
})
