import type { JwtSvid, JwtSvidParams } from '../jwt-svid/jwt-svid.js'
import type { OneShotOptions } from './one-shot-options.js'
import { withClient } from './with-client.js'

/**
 * Fetches one JWT-SVID (`FetchJWTSVID`) for an audience. Uncached; use `JwtSource` in services.
 *
 * @example
 * ```ts
 * import { fetchJwtSvid } from '@svidkit/core/workload-api'
 * const { token } = await fetchJwtSvid({ audience: 'spiffe://example.org/orders' })
 * ```
 */
export function fetchJwtSvid(params: JwtSvidParams, options: OneShotOptions = {}): Promise<JwtSvid> {
  return withClient(options, (c) => c.fetchJwtSvid(params, options))
}
