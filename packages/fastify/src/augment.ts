import type { RouteRequirement } from '@svidkit/core/adapter'
import type { Caller, CallerVerifier } from '@svidkit/core/caller'
import type { preHandlerHookHandler } from 'fastify'

/**
 * What the plugin adds to the Fastify instance, as `fastify.svid`.
 *
 * @example
 * ```ts
 * const { verifier } = fastify.svid
 * fastify.get('/admin', { preHandler: fastify.svid.require({ callers: ['spiffe://example.org/admin'] }) }, handler)
 * ```
 */
export interface SvidkitFastifyDecorator {
  /** The compiled caller pipeline. */
  readonly verifier: CallerVerifier
  /**
   * A reusable hook that requires more of the caller the plugin already authenticated (allowed
   * callers, trust domains, channels, scopes, boundaries, claim conditions; not `public` or
   * `optional`, which belong in `config.svid`). Compiled and validated now; use it as a route
   * `preHandler` (or `onRequest`). Refusals go through core's status table.
   *
   * @example
   * ```ts
   * const canWrite = fastify.svid.require({ scopes: ['orders:write'] })
   * fastify.post('/orders', { preHandler: canWrite }, handler)
   * ```
   */
  require(requirement: RouteRequirement): preHandlerHookHandler
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The verified caller, set in `onRequest` (before the body is read); `undefined` on public routes
     * and for optional authentication without credentials. Read-only (a getter). Narrow on `channel`
     * (`'oidc'` has a `principal`, the others a `spiffeId`).
     */
    readonly caller: Caller | undefined
  }
  interface FastifyInstance {
    svid: SvidkitFastifyDecorator
  }
  interface FastifyContextConfig {
    /**
     * What this route asks of its caller (core's `RouteRequirement`): `public`, `optional`, allowed
     * callers, trust domains, channels, scopes, boundaries, claim conditions.
     */
    svid?: RouteRequirement
  }
}
