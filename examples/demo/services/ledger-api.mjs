// The ledger's gRPC API (proto/ledger.proto), for the ledger service and for its clients: orders,
// payments and the demo's callers. A client presents its own X.509-SVID (svidChannelCredentials), talks
// only to the ledger's SPIFFE ID, and may add a JWT-SVID to every call (jwtSvidCallCredentials).
import { credentials, loadPackageDefinition, status } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { authorizeId } from '@svidkit/core/policy'
import { jwtSvidCallCredentials, svidChannelCredentials } from '@svidkit/grpc'

const definition = loadSync(new URL('../proto/ledger.proto', import.meta.url).pathname)
/** The generated client constructor; `Ledger.service` is the service definition. */
export const { Ledger } = loadPackageDefinition(definition).demo.ledger.v1

/** The full name of a ledger method, as policies and audit events spell it. */
export const ledgerMethod = (name) => `/demo.ledger.v1.Ledger/${name}`

/**
 * A ledger client for the workload of `x509` (an X509Source): mTLS with its SVID, the ledger
 * authorized by its SPIFFE ID `ledgerId`; with `jwt` (a JwtSource), a JWT-SVID for the ledger on every
 * call as well.
 */
export function ledgerClient({ address, ledgerId, x509, jwt }) {
  let creds = svidChannelCredentials({ source: x509, authorize: authorizeId(ledgerId) })
  if (jwt) {
    creds = credentials.combineChannelCredentials(
      creds,
      jwtSvidCallCredentials({ source: jwt, audience: ledgerId }),
    )
  }
  // The target is an IP address: name the server otherwise (grpc-js would send the IP as the TLS
  // server name, which Node deprecates). The ledger is authorized by SPIFFE ID either way.
  return new Ledger(address, creds, { 'grpc.ssl_target_name_override': 'ledger.demo.svidkit.dev' })
}

/**
 * Calls `method` and settles with what the client got: `{ code: 0, name: 'OK', value }`, or the gRPC
 * status (`{ code, name, details, svidkitCode }`, `svidkitCode` being the svidkit error code the
 * server put first in the details).
 */
export function callLedger(client, method, request, { timeoutMs = 5_000 } = {}) {
  return new Promise((resolve) => {
    client[method](request, { deadline: Date.now() + timeoutMs }, (err, value) => {
      if (!err) return resolve({ code: 0, name: 'OK', value })
      resolve({
        code: err.code,
        name: status[err.code] ?? String(err.code),
        details: err.details,
        svidkitCode: /^(ERR_[A-Z0-9_]+):/.exec(err.details ?? '')?.[1],
      })
    })
  })
}
