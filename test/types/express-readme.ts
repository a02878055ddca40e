import https from 'node:https'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { matchId } from '@svidkit/core/spiffe-id'
import { BundleSource, X509Source } from '@svidkit/core/workload-api'
import { requireCaller, requireScopes, svid, svidErrorHandler } from '@svidkit/express'
import express from 'express'

// The Usage snippet of packages/express/README.md, type-checked (keep the two in sync).
declare const key: string
declare const cert: string

// From the SPIFFE Workload API (SPIFFE_ENDPOINT_SOCKET): our own SVID, and every trust bundle.
const source = await X509Source.create()
const bundles = await BundleSource.create()

const app = express()
app.get('/healthz', (_req, res) => {
  res.send('ok') // mounted before svid(): public
})

const auth = svid({
  bundles,
  self: source,
  jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
  // The sidecar that writes XFCC is known by its SVID: over mTLS, never trust a proxy by address.
  xfcc: {
    trustedPeers: { spiffeId: matchId('spiffe://example.org/ns/shop/sa/envoy') },
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

// mTLS: ask for the client certificate and let svidkit (not OpenSSL) judge it.
https.createServer({ key, cert, requestCert: true, rejectUnauthorized: false }, app).listen(8443)
