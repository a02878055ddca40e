// The plumbing both demo services share, kept out of orders.mjs and admin.mjs so that those show only
// what a service writes with svidkit: its identity from the Workload API, mTLS, the verifier options,
// the policy file and its routes.
import { mkdirSync } from 'node:fs'
import { createAuditor, jsonLinesSink } from '@svidkit/core/audit'
import { BundleSource, X509Source } from '@svidkit/core/workload-api'

/** Boundary captures of every demo identity: tenant, namespace, service account. */
export const IDENTITY_TEMPLATE = '/tenant/{tenant}/ns/{namespace}/sa/{serviceAccount}'

/** The nginx edge proxy: the only peer whose forwarded client certificate the services believe. */
export const NGINX_ID = 'spiffe://demo.svidkit.dev/tenant/acme/ns/edge/sa/nginx'

/**
 * The source address nginx connects from (`proxy_bind`): 127.0.0.2, which Linux routes to `lo` like
 * every 127/8 address, so a caller on 127.0.0.1 is never mistaken for nginx. Other systems only have
 * 127.0.0.1; the SPIFFE ID check (`require: 'both'`) still tells nginx apart there.
 */
export const NGINX_SOURCE_ADDRESS =
  process.env.DEMO_NGINX_SOURCE_ADDRESS ?? (process.platform === 'linux' ? '127.0.0.2' : '127.0.0.1')

/** Sends a message to run.mjs (over the IPC channel it opened), or prints it when run by hand. */
export function report(message) {
  if (process.send && process.connected) process.send(message)
  else console.log(JSON.stringify(message))
}

/**
 * The service's identity and trust bundles, live from the Workload API at $SPIFFE_ENDPOINT_SOCKET:
 * - `x509`: an X509Source (its own X.509-SVID, re-issued by the agent at half-life, and the X.509
 *   bundles); createMtlsServerConfig serves each new SVID to new connections without a restart;
 * - `bundles`: the X.509 bundles of that X509Source and the JWT bundles of a BundleSource, as the one
 *   object the caller verifier takes (it verifies certificates and JWT-SVIDs).
 */
export async function workloadIdentity(service) {
  const x509 = await X509Source.create({ timeoutMs: 10_000 })
  const jwt = await BundleSource.create({ x509: false, timeoutMs: 10_000 })
  const svidInfo = () => {
    const svid = x509.getX509Svid()
    return { id: svid.id.toString(), serial: svid.certificates[0].serialNumber, expiresAt: svid.expiresAt }
  }
  let last = svidInfo().serial
  x509.on('update', () => {
    const now = svidInfo()
    if (now.serial === last) return
    last = now.serial
    report({ type: 'rotated', service, ...now, expiresAt: now.expiresAt.toISOString() })
  })
  const bundles = {
    getX509BundleForTrustDomain: (td) => x509.getX509BundleForTrustDomain(td),
    getJwtBundleForTrustDomain: (td) => jwt.getJwtBundleForTrustDomain(td),
  }
  return { x509, jwt, bundles, selfId: svidInfo().id, svidInfo }
}

/** Where each service writes its audit log (`audit/<service>.jsonl`), for `svidkit policy replay`. */
export const AUDIT_DIR = new URL('../audit/', import.meta.url)

/**
 * An auditor (the verifier's `audit` option) that writes every audit event to the service's audit log
 * and sends it to run.mjs, and remembers the decisions taken for each verified caller, so a handler
 * can say which rule let the request in (`decisionsOf(request.caller)`): the adapters set the caller
 * on the request but not the decision.
 */
export function demoAuditor(service) {
  const decisions = new WeakMap()
  mkdirSync(AUDIT_DIR, { recursive: true })
  const log = jsonLinesSink(new URL(`${service}.jsonl`, AUDIT_DIR))
  const auditor = createAuditor({
    sink: {
      write: (event) => {
        log.write(event)
        report({ type: 'audit', service, event })
      },
    },
  })
  return {
    auditor: {
      record(input, decision, latencyMs) {
        const list = decisions.get(input.caller) ?? []
        list.push({ rule: decision.rule, reason: decision.reason })
        decisions.set(input.caller, list)
        return auditor.record(input, decision, latencyMs)
      },
      recordFailure: (failure, latencyMs) => auditor.recordFailure(failure, latencyMs),
    },
    /** The decisions recorded for this request's caller (taken: a caller object is per request). */
    decisionsOf(caller) {
      const list = (caller && decisions.get(caller)) ?? []
      if (caller) decisions.delete(caller)
      return list
    },
  }
}

/** What the handlers answer: who called, as the service saw it, and which rules let it in. */
export function answer(service, caller, decided, data) {
  return {
    service,
    caller: caller ? { id: caller.spiffeId.toString(), channel: caller.channel } : null,
    decided,
    data,
  }
}

/** Closes everything on SIGTERM/SIGINT, or when run.mjs goes away (the IPC channel closes). */
export function closeOnExit(close) {
  let closing = false
  const stop = async () => {
    if (closing) return
    closing = true
    const force = setTimeout(() => process.exit(0), 3000)
    force.unref()
    try {
      await close()
    } finally {
      process.exit(0)
    }
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  process.once('disconnect', stop)
}
