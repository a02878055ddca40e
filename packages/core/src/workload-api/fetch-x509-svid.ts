import type { X509Svid } from '../x509-svid/x509-svid.js'
import type { OneShotOptions } from './one-shot-options.js'
import { withClient } from './with-client.js'

/**
 * Fetches the default X.509-SVID once (opens a client, reads the first `FetchX509SVID` message,
 * closes). For scripts; long-running services should use `X509Source`.
 *
 * @example
 * ```ts
 * import { fetchX509Svid } from '@svidkit/core/workload-api'
 * const svid = await fetchX509Svid({ signal: AbortSignal.timeout(5000) }) // address from SPIFFE_ENDPOINT_SOCKET
 * console.log(svid.id.toString(), svid.expiresAt)
 * ```
 */
export function fetchX509Svid(options: OneShotOptions = {}): Promise<X509Svid> {
  return withClient(options, (c) => c.fetchX509Svid(options))
}
