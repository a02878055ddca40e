import { OptionsError } from '../errors/domain-errors.js'
import { compileJwtOptions } from './compile-jwt-options.js'
import type { JwtSvidRequestOptions } from './jwt-svid-request-options.js'

/**
 * Options for {@link withJwtSvid}.
 *
 * @example
 * ```ts
 * const options: WithJwtSvidOptions = { source: jwtSource, audience: 'orders', origins: ['https://orders.internal'] }
 * ```
 */
export interface WithJwtSvidOptions extends JwtSvidRequestOptions {}

interface RequestLike {
  readonly url: string
  readonly headers: Iterable<[string, string]>
}

function isRequestLike(input: unknown): input is RequestLike {
  return (
    typeof input === 'object' &&
    input !== null &&
    typeof (input as { url?: unknown }).url === 'string' &&
    typeof (input as { headers?: unknown }).headers === 'object'
  )
}

function originOf(input: unknown): string | undefined {
  try {
    if (typeof input === 'string') return new URL(input).origin
    if (input instanceof URL) return input.origin
    if (isRequestLike(input)) return new URL(input.url).origin
  } catch {
    // A relative or malformed URL: fetch itself will reject it; never attach a token to it.
  }
  return undefined
}

/**
 * Wraps a `fetch` (the global one, undici's, or any fetch-compatible function) so every request
 * carries `Authorization: Bearer <JWT-SVID>` for `audience`, fetched from the source per request (a
 * `JwtSource` caches tokens and refreshes them ahead of expiry, so this is usually a cache hit). A
 * request that already has an `Authorization` header keeps it. With `origins`, only requests to those
 * origins get the token. A token is never attached to a URL that does not parse.
 *
 * @example
 * ```ts
 * import { withJwtSvid } from '@svidkit/core/http-client'
 *
 * const authedFetch = withJwtSvid(fetch, { source: jwtSource, audience: 'orders', origins: ['https://orders.internal'] })
 * const res = await authedFetch('https://orders.internal/orders/42')
 * ```
 */
export function withJwtSvid<I, Init extends object, R>(
  fetchImpl: (input: I, init?: Init) => Promise<R>,
  options: WithJwtSvidOptions,
): (input: I, init?: Init) => Promise<R> {
  const { params, source, allows } = compileJwtOptions(options, 'withJwtSvid')
  if (typeof fetchImpl !== 'function') {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'withJwtSvid: the first argument must be a fetch function')
  }
  return async (input: I, init?: Init): Promise<R> => {
    const origin = originOf(input)
    if (origin === undefined || !allows(origin)) return fetchImpl(input, init)
    const signal = (init as { signal?: AbortSignal | null } | undefined)?.signal ?? undefined
    const svid = await source.fetchJwtSvid(params, signal ? { signal } : {})
    // Per fetch semantics, `init.headers` replaces a Request's headers; otherwise start from the Request's.
    const given = (init as { headers?: unknown } | undefined)?.headers
    const headers = new Headers(
      (given ?? (isRequestLike(input) ? input.headers : undefined)) as ConstructorParameters<
        typeof Headers
      >[0],
    )
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${svid.token}`)
    return fetchImpl(input, { ...(init ?? {}), headers: [...headers] } as Init)
  }
}
