import type { JwtSvidSource } from '../jwt-svid/jwt-svid.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'

/**
 * Options shared by {@link withJwtSvid} and {@link jwtSvidInterceptor}.
 *
 * @example
 * ```ts
 * const options: JwtSvidRequestOptions = { source: jwtSource, audience: 'orders', origins: ['https://orders.internal'] }
 * ```
 */
export interface JwtSvidRequestOptions {
  /** Where tokens come from: a `JwtSource` (it caches and refreshes ahead of expiry) or any `JwtSvidSource`. */
  source: JwtSvidSource
  /** The audience the token is for (the receiving service). */
  audience: string
  /** More audiences the token must name. */
  extraAudiences?: readonly string[]
  /** Which of this workload's identities to use; default the source's default. */
  subject?: SpiffeId | string
  /**
   * Origins (`https://orders.internal:8443`) that may receive the token; requests to any other origin
   * are sent without it. Default: every origin the wrapped client talks to.
   */
  origins?: readonly string[]
}
