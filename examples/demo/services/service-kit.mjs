// The plumbing the demo services share, kept out of orders.mjs, payments.ts, ledger.mjs and admin.mjs
// so that those show only what a service writes with svidkit: its identity from the Workload API, mTLS,
// the verifier options, the policy file and its routes.
import { mkdirSync } from 'node:fs'
import { createAuditor, jsonLinesSink } from '@svidkit/core/audit'
import { combineBundleSources } from '@svidkit/core/bundle'
import { JwtSource, X509Source } from '@svidkit/core/workload-api'

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
  else process.stdout.write(`${JSON.stringify(message)}\n`)
}

/**
 * The service's identity and trust bundles, live from the Workload API at $SPIFFE_ENDPOINT_SOCKET:
 * - `x509`: an X509Source (its own X.509-SVID, re-issued by the agent at half-life, and the X.509
 *   bundles, federated ones included); the TLS listeners serve each new SVID to new connections
 *   without a restart;
 * - `jwt`: a JwtSource (JWT-SVIDs for the services it calls, and the JWT bundles);
 * - `bundles`: the X.509 bundles of `x509` and the JWT bundles of `jwt`, as the one object the caller
 *   verifier takes (it verifies certificates and JWT-SVIDs).
 */
export async function workloadIdentity(service) {
  const x509 = await X509Source.create({ timeoutMs: 10_000 })
  const jwt = await JwtSource.create({ timeoutMs: 10_000 })
  const svidInfo = () => {
    const svid = x509.getX509Svid()
    return { id: svid.id.toString(), serial: svid.certificates[0].serialNumber, expiresAt: svid.expiresAt }
  }
  let last = svidInfo().serial
  let trusted = trustDomainsOf(x509)
  x509.on('update', () => {
    const now = svidInfo()
    if (now.serial !== last) {
      last = now.serial
      report({ type: 'rotated', service, ...now, expiresAt: now.expiresAt.toISOString() })
    }
    // The trust domains whose bundles the Workload API delivers (ours, then the federated ones).
    const domains = trustDomainsOf(x509)
    if (domains.join() !== trusted.join()) {
      trusted = domains
      report({ type: 'bundles', service, trustDomains: domains })
    }
  })
  return {
    x509,
    jwt,
    bundles: combineBundleSources(x509, jwt),
    selfId: svidInfo().id,
    svidInfo,
    trustDomains: () => trusted,
  }
}

function trustDomainsOf(x509) {
  return x509.bundles
    .trustDomains()
    .map((td) => td.name)
    .sort()
}

/** Where each service writes its audit log (`audit/<service>.jsonl`), for `svidkit policy replay`. */
export const AUDIT_DIR = new URL('../audit/', import.meta.url)

/**
 * An auditor (the verifier's `audit` option) that writes every audit event to the service's audit log
 * (`jsonLinesSink`) and sends it to run.mjs, which prints who called, over which channel, and the rule
 * that decided and why.
 */
export function demoAuditor(service) {
  mkdirSync(AUDIT_DIR, { recursive: true })
  const log = jsonLinesSink(new URL(`${service}.jsonl`, AUDIT_DIR))
  return createAuditor({
    sink: {
      write: (event) => {
        log.write(event)
        report({ type: 'audit', service, event })
      },
    },
  })
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
