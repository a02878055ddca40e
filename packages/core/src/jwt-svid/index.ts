/**
 * JWT-SVIDs (JWT-SVID §4): verify a bearer token against the JWT bundle of the trust domain of its
 * `sub`, with a reusable verifier that caches verified tokens, and an explicitly insecure parse for
 * inspection.
 *
 * - {@link verifyJwtSvid}: one uncached verification; synchronous, `node:crypto.verify` with the
 *   bundle's pre-imported key; about 2 µs of parsing and checks on top of the signature check.
 * - {@link createJwtSvidVerifier}: options validated once and a bounded verified-token cache (on by
 *   default) that re-checks time and the bundle on every hit.
 * - {@link parseJwtSvidInsecure}: the same checks without the signature; never for authentication.
 *
 * Stricter than go-spiffe where the spec allows: the expected audience is required (any-of over a
 * list), `kid` is required (a bundle lookup needs it), `nbf`/`iat` in the future beyond the skew are
 * refused, `crit`, the JSON serialization and oversized tokens are refused, and the key type must fit
 * `alg`.

 *
 * Caches, all bounded: verified tokens per {@link createJwtSvidVerifier} — at most `cache.maxEntries`
 * (default **1000**, second-chance LRU; expired entries go first; `cacheStats()` shows the size);
 * headers that passed the checks — the last **8** header segments; SPIFFE IDs parsed from `sub` — up
 * to **1024**, cleared when full. None of them keeps a token alive. *
 * @example
 * ```ts
 * import { createJwtSvidVerifier } from '@svidkit/core/jwt-svid'
 * const verifier = createJwtSvidVerifier({ bundles, audience: 'spiffe://example.org/orders' })
 * const { id } = verifier.verify(token)
 * ```
 * @module
 */
export type {
  JwtSvidCacheOptions,
  JwtSvidVerifier,
  JwtSvidVerifierOptions,
  JwtSvidVerifyCallOptions,
} from './create-jwt-svid-verifier.js'
export { createJwtSvidVerifier } from './create-jwt-svid-verifier.js'
export type { JwtSvid, JwtSvidParams, JwtSvidSource } from './jwt-svid.js'
export type { JwtSvidCacheStats } from './jwt-svid-cache.js'
export type { ParseJwtSvidInsecureOptions } from './parse-jwt-svid-insecure.js'
export { parseJwtSvidInsecure } from './parse-jwt-svid-insecure.js'
export type { VerifyJwtSvidOptions } from './verify-jwt-svid.js'
export { verifyJwtSvid } from './verify-jwt-svid.js'
