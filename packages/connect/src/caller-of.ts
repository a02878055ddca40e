import type { ContextValues } from '@connectrpc/connect'
import type { Caller } from '@svidkit/core/caller'
import { CredentialsError, OptionsError } from '@svidkit/core/errors'
import { authenticatedKey, callerKey } from './caller-key.js'
import { toConnectError } from './to-connect-error.js'

/**
 * The verified caller of a call, for methods that need one: pass the handler's context (`ctx`) or
 * context values (`ctx.values`, an interceptor's `req.contextValues`). It fails closed, throwing a
 * `ConnectError` from core's status table: 16 `Unauthenticated` (`ERR_CREDENTIALS_MISSING`) when
 * the svidkit interceptor saw the call but it has no caller (a public method, or an optional one
 * without credentials), and 13 `Internal` (`ERR_OPTIONS_INVALID`) when no svidkit interceptor saw the call
 * at all (it is missing from `interceptors`). Typed: narrow on `channel` (`'oidc'` has a
 * `principal`, the others a `spiffeId`). Use `ctx.values.get(callerKey)` where a caller is optional.
 *
 * @throws ConnectError when the call has no verified caller.
 * @example
 * ```ts
 * import { callerOf } from '@svidkit/connect'
 * router.service(Orders, {
 *   async getOrder(req, ctx) {
 *     const caller = callerOf(ctx)
 *     return { id: req.id, servedTo: caller.channel === 'oidc' ? caller.principal.sub : caller.spiffeId.toString() }
 *   },
 * })
 * ```
 */
export function callerOf(context: ContextValues | { readonly values: ContextValues }): Caller {
  const values = 'values' in context ? context.values : context
  const caller = values.get(callerKey)
  if (caller !== undefined) return caller
  throw toConnectError(
    values.get(authenticatedKey)
      ? new CredentialsError('ERR_CREDENTIALS_MISSING', 'this call has no verified caller')
      : new OptionsError(
          'ERR_OPTIONS_INVALID',
          '@svidkit/connect: no svidkit interceptor saw this call (add createSvidkitInterceptor to interceptors)',
        ),
  )
}
