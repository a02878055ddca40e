// The demo's callers: each call is made as one workload, with its own SVIDs, over fresh connections.
// - HTTP: undici's fetch with createSpiffeDispatcher (mTLS with the caller's X.509-SVID; the server must
//   have the expected SPIFFE ID), plus a JWT-SVID bearer token (`jwt`), through nginx (`nginx`), or with
//   a forged forwarded-certificate header (`forged`);
// - gRPC: the ledger client of services/ledger-api.mjs (svidChannelCredentials, plus
//   jwtSvidCallCredentials for `grpc+jwt`);
// - `files`: a workload that saved its X.509-SVID to files once and never refreshed them, calling with
//   plain undici (no Workload API, no svidkit).
import { withJwtSvid } from '@svidkit/core/http-client'
import { matchId } from '@svidkit/core/spiffe-id'
import { createSpiffeDispatcher } from '@svidkit/core/tls'
import { Agent, fetch } from 'undici'
import { callLedger, ledgerClient } from '../services/ledger-api.mjs'

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export async function waitFor(condition, ms) {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) return false
    await delay(10)
  }
  return true
}

/**
 * Makes `call` as `call.from` and returns what happened: the HTTP status and body or the gRPC status,
 * the serial number of the certificate the server presented, and the audit events and handshake
 * refusals every service reported meanwhile.
 */
export async function send(stack, call) {
  const before = stack.events.length
  const result = call.via.startsWith('grpc') ? await sendGrpc(stack, call) : await sendHttp(stack, call)
  // The services' reports of this call travel on another channel (IPC) than the response: wait for the
  // target's, and for the inner call's service when there is one.
  const from = (service) => () => stack.events.slice(before).some((e) => e.service === service)
  await waitFor(from(call.to), 1_000)
  if (call.inner) await waitFor(from(call.inner.to), 1_000)
  await delay(25)
  // With --otel, the spans are printed by the services when they end, just after the response: wait
  // until their output has been quiet for 100 ms (at most 1 s).
  if (stack.otel) {
    const deadline = Date.now() + 1_000
    let seen = -1
    while (stack.events.length !== seen && Date.now() < deadline) {
      seen = stack.events.length
      await delay(100)
    }
  }
  return { ...result, reports: stack.events.slice(before) }
}

async function sendHttp(stack, call) {
  const from = stack.callers.get(call.from)
  const service = stack.services.get(call.to)
  const target = call.via === 'nginx' ? stack.nginx : service
  let serverSerial
  const headers = { accept: 'application/json' }
  if (call.body) headers['content-type'] = 'application/json'
  let dispatcher
  if (call.via === 'files') {
    // The chain is checked against the bundle saved with the SVID; the server's SPIFFE ID is not
    // (this client has no svidkit); what matters here is the certificate it presents.
    dispatcher = new Agent({
      connect: { ...from.files, checkServerIdentity: () => undefined },
    })
  } else {
    dispatcher = createSpiffeDispatcher({
      source: from.x509,
      authorize: matchId(target.id),
      onVerified: (peer) => {
        serverSerial = peer.certificate.serialNumber
      },
    })
  }
  if (call.via === 'forged') {
    const victim = stack.callers.get(call.forge).x509.getX509Svid().certificates[0]
    headers['ssl-client-cert'] = encodeURIComponent(victim.toString()) // as $ssl_client_escaped_cert
  }
  // JWT-SVID: fetched from the caller's own socket for the service's audience, sent as a bearer token.
  const request = call.via === 'jwt' ? withJwtSvid(fetch, { source: from.jwt, audience: service.id }) : fetch
  try {
    const res = await request(`${target.url}${call.path}`, {
      method: call.method,
      headers,
      body: call.body ? JSON.stringify(call.body) : undefined,
      dispatcher,
      signal: AbortSignal.timeout(5_000),
    })
    const body = await res.json().catch(() => ({}))
    return { status: res.status, code: body.code, why: body.message, body, serverSerial }
  } finally {
    await dispatcher.close()
  }
}

async function sendGrpc(stack, call) {
  const from = stack.callers.get(call.from)
  const ledger = stack.services.get(call.to)
  const client = ledgerClient({
    address: ledger.url,
    ledgerId: ledger.id,
    x509: from.x509,
    jwt: call.via === 'grpc+jwt' ? from.jwt : undefined,
  })
  try {
    const method = `${call.rpc[0].toLowerCase()}${call.rpc.slice(1)}` // GetBalance → client.getBalance
    const r = await callLedger(client, method, call.request ?? {})
    return {
      grpc: { code: r.code, name: r.name },
      code: r.svidkitCode,
      why: r.code === 0 ? undefined : (r.details ?? '').replace(/^ERR_[A-Z0-9_]+: /, ''),
      body: r.value,
    }
  } finally {
    client.close()
  }
}
