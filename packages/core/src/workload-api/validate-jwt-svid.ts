import type { OneShotOptions } from './one-shot-options.js'
import { withClient } from './with-client.js'
import type { ValidatedJwtSvid } from './workload-api-client.js'

/**
 * Asks the agent to validate a JWT-SVID for an audience (`ValidateJWTSVID`). An invalid token throws
 * `WorkloadApiError` with code `ERR_WORKLOAD_API_JWT_SVID_INVALID` (HTTP 401 `invalid_token`).
 *
 * @example
 * ```ts
 * import { validateJwtSvid } from '@svidkit/core/workload-api'
 * const { id, claims } = await validateJwtSvid(token, 'spiffe://example.org/orders')
 * ```
 */
export function validateJwtSvid(
  token: string,
  audience: string,
  options: OneShotOptions = {},
): Promise<ValidatedJwtSvid> {
  return withClient(options, (c) => c.validateJwtSvid(token, audience, options))
}
