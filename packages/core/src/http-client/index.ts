/**
 * JWT-SVIDs on outgoing HTTP requests: `withJwtSvid` wraps a `fetch`, `jwtSvidInterceptor` is an undici
 * interceptor; both take tokens from a `JwtSource` (cached and refreshed ahead of expiry) and send
 * them only to the origins you allow. Pair them with `@svidkit/core/tls` for mTLS underneath.
 *
 * @example
 * ```ts
 * import { withJwtSvid } from '@svidkit/core/http-client'
 * const call = withJwtSvid(fetch, { source: jwtSource, audience: 'spiffe://example.org/ns/shop/sa/orders' })
 * await call('https://orders.internal/orders')
 * ```
 * @module
 */
export type { JwtSvidInterceptorOptions } from './jwt-svid-interceptor.js'
export { jwtSvidInterceptor } from './jwt-svid-interceptor.js'
export type { JwtSvidRequestOptions } from './jwt-svid-request-options.js'
export type { WithJwtSvidOptions } from './with-jwt-svid.js'
export { withJwtSvid } from './with-jwt-svid.js'
