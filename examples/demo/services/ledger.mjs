// The ledger, on gRPC: spiffe://demo.svidkit.dev/tenant/acme/ns/finance/sa/ledger.
//
// - Its X.509-SVID and trust bundles come from the Workload API ($SPIFFE_ENDPOINT_SOCKET), live.
// - @svidkit/grpc's serveSvid owns the TLS listener: it presents the current SVID and lets in only
//   X.509-SVIDs of demo.svidkit.dev, in the handshake (a workload of another trust domain never reaches
//   grpc-js). svidInterceptor then names the caller of every call (its certificate, or a JWT-SVID in the
//   `authorization` metadata for the same workload) and applies policies/ledger.yaml, whose rules name
//   gRPC methods; refusals are gRPC statuses from core's status table.
//
//   SPIFFE_ENDPOINT_SOCKET=unix:///…/ledger.sock node services/ledger.mjs   (run.mjs does this)
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Server } from '@grpc/grpc-js'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { matchMemberOf } from '@svidkit/core/spiffe-id'
import { callerOf, serveSvid, svidInterceptor } from '@svidkit/grpc'
import { Ledger } from './ledger-api.mjs'
import { closeOnExit, demoAuditor, IDENTITY_TEMPLATE, report, workloadIdentity } from './service-kit.mjs'

const POLICY = fileURLToPath(new URL('../policies/ledger.yaml', import.meta.url))

const { x509, jwt, bundles, selfId, svidInfo } = await workloadIdentity('ledger')
const auditor = demoAuditor('ledger')

const server = new Server({
  interceptors: [
    svidInterceptor({
      bundles,
      self: x509,
      // A JWT-SVID in the metadata names the caller (it must be the workload of the client certificate);
      // without one, the client certificate does.
      channels: ['jwt', 'mtls'],
      jwt: { audience: selfId },
      identityTemplates: [IDENTITY_TEMPLATE],
      authorizer: createPolicyAuthorizer(loadPolicyFile(POLICY)),
      audit: auditor,
    }),
  ],
})

const entries = [
  { id: 'e-1', account: 'acme', cents: 12_900, reference: '1001', recordedBy: selfId },
  { id: 'e-2', account: 'acme', cents: 4_500, reference: '1002', recordedBy: selfId },
]
const servedTo = (call) => callerOf(call)?.spiffeId?.toString() ?? ''

server.addService(Ledger.service, {
  getBalance(call, callback) {
    const cents = entries.filter((e) => e.account === call.request.account).reduce((s, e) => s + e.cents, 0)
    callback(null, { account: call.request.account, cents, servedTo: servedTo(call) })
  },
  listEntries(call, callback) {
    callback(null, {
      entries: entries.filter((e) => e.reference === call.request.reference),
      servedTo: servedTo(call),
    })
  },
  recordEntry(call, callback) {
    const entry = { id: `e-${randomUUID().slice(0, 8)}`, ...call.request, recordedBy: servedTo(call) }
    entries.push(entry)
    callback(null, entry)
  },
})

// mTLS in the handshake: only X.509-SVIDs of our trust domain connect at all.
const listener = await serveSvid(server, {
  address: `127.0.0.1:${process.env.PORT ?? 0}`,
  source: x509,
  authorize: matchMemberOf('demo.svidkit.dev'),
})
// A peer refused in the handshake never reaches the interceptor (no audit event): say why here.
listener.tlsServer.on('tlsClientError', (err) => {
  if (err.code?.startsWith('ERR_'))
    report({ type: 'refused', service: 'ledger', code: err.code, message: err.message })
})
report({
  type: 'ready',
  service: 'ledger',
  id: selfId,
  serial: svidInfo().serial,
  url: `127.0.0.1:${listener.port}`,
})

closeOnExit(async () => {
  await listener.close({ graceMs: 500 })
  server.forceShutdown()
  await jwt.close()
  await x509.close()
})
