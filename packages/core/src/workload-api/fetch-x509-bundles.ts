import type { BundleSet } from '../bundle/bundle-set.js'
import type { OneShotOptions } from './one-shot-options.js'
import { withClient } from './with-client.js'

/**
 * Fetches the X.509 bundles once (`FetchX509Bundles`: works without an SVID of one's own when the
 * agent allows it).
 *
 * @example
 * ```ts
 * import { fetchX509Bundles } from '@svidkit/core/workload-api'
 * const bundles = await fetchX509Bundles()
 * bundles.trustDomains() // [TrustDomain('example.org'), …]
 * ```
 */
export function fetchX509Bundles(options: OneShotOptions = {}): Promise<BundleSet> {
  return withClient(options, (c) => c.fetchX509Bundles(options))
}
