import type { Dispatcher } from 'undici'
import { compileJwtOptions } from './compile-jwt-options.js'
import type { JwtSvidRequestOptions } from './jwt-svid-request-options.js'

/**
 * Options for {@link jwtSvidInterceptor}.
 *
 * @example
 * ```ts
 * const options: JwtSvidInterceptorOptions = { source: jwtSource, audience: 'orders' }
 * ```
 */
export interface JwtSvidInterceptorOptions extends JwtSvidRequestOptions {}

type Headers = Dispatcher.DispatchOptions['headers']

/** Adds `authorization` unless present, whatever form undici's `headers` takes. */
function withAuthorization(headers: Headers, value: string): Headers {
  if (headers === null || headers === undefined) return { authorization: value }
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === 'authorization') return headers
    }
    return [...headers, 'authorization', value]
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    const pairs = [...(headers as Iterable<[string, string | string[] | undefined]>)]
    if (pairs.some(([k]) => k.toLowerCase() === 'authorization')) return pairs
    return [...pairs, ['authorization', value]]
  }
  const record = headers as Record<string, string | string[] | undefined>
  for (const k of Object.keys(record)) if (k.toLowerCase() === 'authorization') return headers
  return { ...record, authorization: value }
}

/**
 * An undici interceptor that adds `Authorization: Bearer <JWT-SVID>` for `audience` to every request
 * (unless it already has one), fetching the token from the source per request (a `JwtSource` caches
 * and refreshes ahead of expiry). Compose it onto any dispatcher, including the one from
 * `createSpiffeDispatcher`, to send a JWT-SVID over mTLS. With `origins`, only those origins get it.
 *
 * @example
 * ```ts
 * import { fetch } from 'undici'
 * import { jwtSvidInterceptor } from '@svidkit/core/http-client'
 * import { createSpiffeDispatcher } from '@svidkit/core/tls'
 *
 * const dispatcher = createSpiffeDispatcher({ source, authorize }).compose(
 *   jwtSvidInterceptor({ source: jwtSource, audience: 'orders' }),
 * )
 * await fetch('https://orders.internal/orders/42', { dispatcher })
 * ```
 */
export function jwtSvidInterceptor(
  options: JwtSvidInterceptorOptions,
): Dispatcher.DispatcherComposeInterceptor {
  const { params, source, allows } = compileJwtOptions(options, 'jwtSvidInterceptor')
  return (dispatch) => (opts, handler) => {
    let origin: string | undefined
    try {
      origin = opts.origin === undefined ? undefined : new URL(String(opts.origin)).origin
    } catch {
      origin = undefined
    }
    if (origin === undefined || !allows(origin)) return dispatch(opts, handler)
    source.fetchJwtSvid(params).then(
      (svid) => {
        try {
          dispatch({ ...opts, headers: withAuthorization(opts.headers, `Bearer ${svid.token}`) }, handler)
        } catch (err) {
          fail(handler, err)
        }
      },
      (err: unknown) => fail(handler, err),
    )
    return true
  }
}

function fail(handler: Dispatcher.DispatchHandler, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err))
  // undici 7+ handlers take `onResponseError(controller, error)`; undici 6 handlers `onError(error)`.
  if (typeof handler.onResponseError === 'function') {
    handler.onResponseError(null as unknown as Dispatcher.DispatchController, error)
  } else handler.onError?.(error)
}
