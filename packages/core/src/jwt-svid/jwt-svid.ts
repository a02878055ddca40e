import type { SpiffeId } from '../spiffe-id/spiffe-id.js'

/**
 * A JWT-SVID: the token plus what it says. Returned by verification (claims verified) and by
 * `JwtSource.fetchJwtSvid` (a token issued to this workload). `token` is the bearer credential
 * itself: never log it.
 *
 * @example
 * ```ts
 * const svid = await jwtSource.fetchJwtSvid({ audience: 'orders' })
 * fetch(url, { headers: { authorization: `Bearer ${svid.token}` } })
 * ```
 */
export interface JwtSvid {
  /** The `sub` claim as a SPIFFE ID. */
  readonly id: SpiffeId
  /** The `aud` claim, always as an array. */
  readonly audience: readonly string[]
  /** The `exp` claim. */
  readonly expiresAt: Date
  /** The `iat` claim, when present. */
  readonly issuedAt: Date | undefined
  /** Every claim of the payload. */
  readonly claims: Readonly<Record<string, unknown>>
  /** The compact JWS. A bearer credential: never log it. */
  readonly token: string
  /** The Workload API hint, when the token came from the Workload API. */
  readonly hint?: string | undefined
}

/**
 * What to ask for when fetching a JWT-SVID (go-spiffe `jwtsvid.Params`).
 *
 * @example
 * ```ts
 * const params: JwtSvidParams = { audience: 'spiffe://example.org/orders', extraAudiences: ['orders'], subject: 'spiffe://example.org/web' }
 * const { token } = await jwtSource.fetchJwtSvid(params)
 * ```
 */
export interface JwtSvidParams {
  /** The audience the token is for. */
  readonly audience: string
  /** More audiences, if the token must name several. */
  readonly extraAudiences?: readonly string[]
  /** Which of the workload's identities to use; default the first (the default identity). */
  readonly subject?: SpiffeId | string
}

/**
 * Anything that can fetch a JWT-SVID for an audience (go-spiffe `jwtsvid.Source`).
 *
 * @example
 * ```ts
 * async function token(source: JwtSvidSource) {
 *   return (await source.fetchJwtSvid({ audience: 'orders' })).token
 * }
 * ```
 */
export interface JwtSvidSource {
  fetchJwtSvid(params: JwtSvidParams, options?: { signal?: AbortSignal }): Promise<JwtSvid>
}
