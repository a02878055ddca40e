import {
  type ContextKey,
  type ContextValues,
  createContextKey,
  createContextValues,
} from '@connectrpc/connect'
import type { NodeHttpRequestLike } from '@svidkit/core/adapter'
import { OptionsError } from '@svidkit/core/errors'

/** The Node request of the call, for the interceptor's credential extraction. Internal. */
export const requestKey: ContextKey<NodeHttpRequestLike | undefined> = createContextKey<
  NodeHttpRequestLike | undefined
>(undefined, { description: '@svidkit/connect request' })

/**
 * The `contextValues` function of `connectNodeAdapter` (or `@connectrpc/connect-fastify`,
 * `-express`) for svidkit: it keeps the call's Node request (`http`, `https` or `http2`) in the
 * call's context values, where {@link createSvidkitInterceptor} reads its credentials — the TLS
 * socket and its peer certificate, the peer address, `authorization` and the forwarded-certificate
 * headers. Pass `values` to add to context values of your own. With Fastify pass the Node request,
 * `request.raw`.
 *
 * @throws OptionsError `ERR_OPTIONS_INVALID` when `request` is not a request object.
 * @example
 * ```ts
 * import { createContextValues } from '@connectrpc/connect'
 * import { connectNodeAdapter } from '@connectrpc/connect-node'
 * import { createSvidkitInterceptor, svidkitContextValues } from '@svidkit/connect'
 *
 * const handler = connectNodeAdapter({
 *   routes,
 *   interceptors: [createSvidkitInterceptor({ bundles, self: source })],
 *   contextValues: svidkitContextValues,
 *   // or, with values of your own: (req) => svidkitContextValues(req, createContextValues().set(tenantKey, 'acme')),
 * })
 * ```
 */
export function svidkitContextValues(
  request: NodeHttpRequestLike,
  values: ContextValues = createContextValues(),
): ContextValues {
  if (typeof request !== 'object' || request === null || typeof request.headers !== 'object') {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      '@svidkit/connect: svidkitContextValues needs the Node request',
    )
  }
  return values.set(requestKey, request)
}
