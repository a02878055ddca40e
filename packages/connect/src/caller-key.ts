import { type ContextKey, createContextKey } from '@connectrpc/connect'
import type { Caller } from '@svidkit/core/caller'

/**
 * The context key holding the verified caller of a call, as {@link createSvidkitInterceptor} set it:
 * read it in a handler with `ctx.values.get(callerKey)`, or in a later interceptor with
 * `req.contextValues.get(callerKey)`. `undefined` on public methods, for optional authentication
 * without credentials, and before the svidkit interceptor ran. Context values live on the server
 * only: nothing a client sends can set them, and the interceptor clears the key before it verifies.
 * Use {@link callerOf} where a caller is required.
 *
 * @example
 * ```ts
 * import { callerKey } from '@svidkit/connect'
 * router.service(Orders, {
 *   async listOrders(_req, ctx) {
 *     const caller = ctx.values.get(callerKey) // Caller | undefined (an optional method)
 *     return { orders: caller ? await ordersOf(caller) : [] }
 *   },
 * })
 * ```
 */
export const callerKey: ContextKey<Caller | undefined> = createContextKey<Caller | undefined>(undefined, {
  description: '@svidkit/connect caller',
})

/** Set by the interceptor on every call it saw, so `callerOf` tells "no caller" from "no interceptor". Internal. */
export const authenticatedKey: ContextKey<boolean> = createContextKey<boolean>(false, {
  description: '@svidkit/connect authenticated',
})
