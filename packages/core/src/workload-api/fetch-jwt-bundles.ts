import type { BundleSet } from '../bundle/bundle-set.js'
import type { OneShotOptions } from './one-shot-options.js'
import { withClient } from './with-client.js'

/**
 * Fetches the JWT bundles once (`FetchJWTBundles`), as a BundleSet of JwtBundles.
 *
 * @example
 * ```ts
 * import { fetchJwtBundles } from '@svidkit/core/workload-api'
 * import { verifyJwtSvid } from '@svidkit/core/jwt-svid'
 * const bundles = await fetchJwtBundles()
 * verifyJwtSvid(token, bundles, { audience: 'spiffe://example.org/orders' })
 * ```
 */
export function fetchJwtBundles(options: OneShotOptions = {}): Promise<BundleSet> {
  return withClient(options, (c) => c.fetchJwtBundles(options))
}
