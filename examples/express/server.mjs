// An Express service with svidkit: run it with SPIFFE_ENDPOINT_SOCKET pointing at a Workload API (a
// SPIRE agent; `node run.mjs` starts the dev agent and two callers for you).
import https from 'node:https'
import { jsonLinesSink } from '@svidkit/core/audit'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { X509Source } from '@svidkit/core/workload-api'
import { svid } from '@svidkit/express'
import express from 'express'

const source = await X509Source.create() // our X.509-SVID and bundles, rotated by the agent
const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('example.org') })
const app = express()
app.use(
  svid({
    bundles: source,
    self: source,
    authorizer: createPolicyAuthorizer(loadPolicyFile(new URL('policy.yaml', import.meta.url))),
    audit: { sink: jsonLinesSink(process.env.AUDIT_LOG ?? 'audit.jsonl') },
  }),
)

app.get('/orders/:id', (req, res) => {
  res.json({ order: req.params.id, caller: req.caller.spiffeId.toString() })
})

const server = mtls.attach(https.createServer(mtls.serverOptions, app))
server.listen(Number(process.env.PORT ?? 8443), '127.0.0.1', () => {
  console.log(`listening on https://127.0.0.1:${server.address().port}`)
})
