// A Fastify service with svidkit: run it with SPIFFE_ENDPOINT_SOCKET pointing at a Workload API (a
// SPIRE agent; `node run.mjs` starts the dev agent and two callers for you).
import https from 'node:https'
import { jsonLinesSink } from '@svidkit/core/audit'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { X509Source } from '@svidkit/core/workload-api'
import svidkit from '@svidkit/fastify'
import Fastify from 'fastify'

const source = await X509Source.create() // our X.509-SVID and bundles, rotated by the agent
const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('example.org') })
const app = Fastify({
  serverFactory: (handler) => mtls.attach(https.createServer(mtls.serverOptions, handler)),
})
await app.register(svidkit, {
  bundles: source,
  self: source,
  authorizer: createPolicyAuthorizer(loadPolicyFile(new URL('policy.yaml', import.meta.url))),
  audit: { sink: jsonLinesSink(process.env.AUDIT_LOG ?? 'audit.jsonl') },
})

app.get('/orders/:id', (request) => ({
  order: request.params.id,
  caller: request.caller.spiffeId.toString(),
}))

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8443) })
console.log(`listening on https://127.0.0.1:${app.server.address().port}`)
