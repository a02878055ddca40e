/**
 * OIDC issuers as a fourth caller channel: verify tokens from configured issuers (JWKS URL or
 * discovery, cached, fail closed) and model the principal as `{ iss, sub }`.
 *
 * @example
 * ```ts
 * import { createOidcVerifier } from '@svidkit/core/oidc'
 * const oidc = createOidcVerifier([{ issuer: 'https://issuer.example', audience: 'orders' }])
 * ```
 * @module
 */
export type { OidcIssuerOptions, OidcToken, OidcVerifier } from './create-oidc-verifier.js'
export { createOidcVerifier } from './create-oidc-verifier.js'
