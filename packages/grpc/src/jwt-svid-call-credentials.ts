import { type CallCredentials, credentials, Metadata } from '@grpc/grpc-js'
import { OptionsError, toGrpcStatus } from '@svidkit/core/errors'
import type { JwtSvidParams, JwtSvidSource } from '@svidkit/core/jwt-svid'
import type { SpiffeId } from '@svidkit/core/spiffe-id'

/**
 * The call an audience function is asked about: grpc-js's `service_url` (`https://host:port/package.Service`)
 * and, with grpc-js ≥ 1.12, the method name.
 *
 * @example
 * ```ts
 * const audienceOf = (target: CallTarget) => (target.serviceUrl.endsWith('/orders.v1.Orders') ? 'orders' : 'billing')
 * ```
 */
export interface CallTarget {
  readonly serviceUrl: string
  readonly methodName: string | undefined
}

/**
 * Options of {@link jwtSvidCallCredentials}.
 *
 * @example
 * ```ts
 * const options: JwtSvidCallCredentialsOptions = { source: jwtSource, audience: 'spiffe://example.org/ns/shop/sa/orders' }
 * ```
 */
export interface JwtSvidCallCredentialsOptions {
  /** Where tokens come from: a `JwtSource` (it caches and refreshes ahead of expiry) or any `JwtSvidSource`. */
  source: JwtSvidSource
  /** The audience the token is for: one string, or a function of the call (per service or method). */
  audience: string | ((target: CallTarget) => string)
  /** More audiences the token must name. */
  extraAudiences?: readonly string[]
  /** Which of this workload's identities to use; default the source's default. */
  subject?: SpiffeId | string
}

/** grpc-js fails the call with the error's numeric `code`: give it the status of core's table. */
function callError(err: unknown): Error & { code: number } {
  const { code, details } = toGrpcStatus(err)
  return Object.assign(new Error(details, { cause: err }), { code })
}

function bad(reason: string): never {
  throw new OptionsError('ERR_OPTIONS_INVALID', `jwtSvidCallCredentials: ${reason}`)
}

/**
 * grpc-js call credentials that send `authorization: Bearer <JWT-SVID>` on each call, fetched from the
 * source for the call's audience (a `JwtSource` serves it from its cache and refreshes it ahead of
 * expiry). Per channel: `credentials.combineChannelCredentials(channel, callCredentials)`; per call:
 * `client.method(request, { credentials: jwtSvidCallCredentials({ source, audience }) }, callback)`.
 * When no token can be fetched the call fails before anything is sent, with the status of core's
 * table for the source's error (14 UNAVAILABLE when the Workload API or the source has none). Send it only
 * over TLS (grpc-js refuses call credentials on an insecure channel).
 *
 * @example
 * ```ts
 * import { credentials } from '@grpc/grpc-js'
 * import { JwtSource } from '@svidkit/core/workload-api'
 * import { jwtSvidCallCredentials, svidChannelCredentials } from '@svidkit/grpc'
 *
 * const jwtSource = await JwtSource.create()
 * const perChannel = credentials.combineChannelCredentials(
 *   svidChannelCredentials({ source, authorize }),
 *   jwtSvidCallCredentials({ source: jwtSource, audience: 'spiffe://example.org/ns/shop/sa/orders' }),
 * )
 * client.get({ id: 42 }, { credentials: jwtSvidCallCredentials({ source: jwtSource, audience: 'billing' }) }, callback)
 * ```
 */
export function jwtSvidCallCredentials(options: JwtSvidCallCredentialsOptions): CallCredentials {
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  const { source, audience, extraAudiences, subject } = options
  if (!source || typeof source.fetchJwtSvid !== 'function')
    bad('"source" must have fetchJwtSvid() (a JwtSource)')
  if (typeof audience !== 'function' && (typeof audience !== 'string' || audience === '')) {
    bad('"audience" must be a non-empty string or a function')
  }
  if (
    extraAudiences !== undefined &&
    (!Array.isArray(extraAudiences) || extraAudiences.some((a) => typeof a !== 'string' || a === ''))
  ) {
    bad('"extraAudiences" must be non-empty strings')
  }
  const rest = {
    ...(extraAudiences ? { extraAudiences: [...extraAudiences] } : {}),
    ...(subject !== undefined ? { subject } : {}),
  }
  const fixed: JwtSvidParams | undefined = typeof audience === 'string' ? { audience, ...rest } : undefined
  return credentials.createFromMetadataGenerator((target, callback) => {
    let params: JwtSvidParams
    try {
      if (fixed) params = fixed
      else {
        const a = (audience as (t: CallTarget) => string)({
          serviceUrl: target.service_url,
          methodName: (target as { method_name?: string }).method_name,
        })
        if (typeof a !== 'string' || a === '') bad('the audience function must return a non-empty string')
        params = { audience: a, ...rest }
      }
    } catch (err) {
      callback(callError(err))
      return
    }
    source.fetchJwtSvid(params).then(
      (svid) => {
        const metadata = new Metadata()
        metadata.set('authorization', `Bearer ${svid.token}`)
        callback(null, metadata)
      },
      (err: unknown) => callback(callError(err)),
    )
  })
}
