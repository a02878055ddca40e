import type { OneShotOptions } from './one-shot-options.js'
import type { X509Context } from './parse-responses.js'
import { withClient } from './with-client.js'

/**
 * Fetches every X.509-SVID and the X.509 bundles (own and federated) once.
 *
 * @example
 * ```ts
 * import { fetchX509Context } from '@svidkit/core/workload-api'
 * const { svids, bundles } = await fetchX509Context({ address: 'unix:///run/spire/agent.sock' })
 * ```
 */
export function fetchX509Context(options: OneShotOptions = {}): Promise<X509Context> {
  return withClient(options, (c) => c.fetchX509Context(options))
}
