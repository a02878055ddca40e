import https from 'node:https'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { matchId, matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { BundleSource, X509Source } from '@svidkit/core/workload-api'
import { requireCaller, requireScopes, svid, svidErrorHandler } from '@svidkit/express'
import express from 'express'

// The Usage snippet of packages/express/README.md, type-checked here and run by
// test/e2e/readme-snippets.test.ts (keep the three in sync).

// From the SPIFFE Workload API (SPIFFE_ENDPOINT_SOCKET): our own SVID with the X.509 bundles, and the
// JWT bundles. Both stay current as the agent rotates them.
const source = await X509Source.create()
const jwtBundles = await BundleSource.create({ x509: false })

const app = express()
app.get('/healthz', (_req, res) => {
  res.send('ok') // mounted before svid(): public
})

const auth = svid({
  bundles: [source, jwtBundles],
  self: source,
  jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
  // XFCC is believed only from the ingress proxy, named by the SVID of its own mTLS connection.
  xfcc: {
    trustedPeers: { spiffeId: matchId('spiffe://example.org/ns/istio-system/sa/ingress') },
    by: 'spiffe://example.org/ns/shop/sa/orders',
  },
  identityTemplates: ['/ns/{namespace}/sa/{serviceAccount}'],
  authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')),
})
const maybe = svid({ verifier: auth.verifier, optional: true }) // same verifier, optional authentication

app.get('/hello', maybe, (req, res) => {
  res.json({ hello: req.caller?.spiffeId?.toString() ?? 'anonymous' })
})

app.use(auth)
app.get('/orders', requireScopes('orders:read'), (req, res) => {
  const caller = req.caller! // set: svid() refused requests without one
  res.json(
    caller.channel === 'oidc'
      ? { user: caller.principal.sub }
      : { workload: caller.spiffeId.toString(), via: caller.channel },
  )
})
app.get('/same-namespace', requireCaller({ boundary: { namespace: { sameAs: 'self' } } }), (req, res) => {
  res.json({ caller: req.caller?.spiffeId?.toString() })
})
app.use(svidErrorHandler()) // maps svidkit errors thrown by your own code, too

// mTLS: the server presents the current SVID and, during the handshake, admits only X.509-SVIDs of
// example.org, each verified against its own trust domain's bundle.
const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('example.org') })
const server = mtls.attach(https.createServer(mtls.serverOptions, app))
server.listen(8443)
