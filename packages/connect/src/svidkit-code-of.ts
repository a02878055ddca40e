import { type ErrorCode, statusTable } from '@svidkit/core/errors'
import { SVIDKIT_CODE_HEADER } from './to-connect-error.js'

/**
 * The svidkit error code of a refused call, as a Connect client sees it: the `svidkit-error-code`
 * metadata of a `ConnectError` (response headers for the Connect protocol, trailers for gRPC and
 * gRPC-web); `undefined` for any other error or an unknown code.
 *
 * @example
 * ```ts
 * import { ConnectError } from '@connectrpc/connect'
 * import { svidkitCodeOf } from '@svidkit/connect'
 * try {
 *   await client.deleteOrder({ id: 42 })
 * } catch (err) {
 *   if (svidkitCodeOf(err) === 'ERR_ACCESS_DENIED') console.log('not allowed:', (err as ConnectError).rawMessage)
 * }
 * ```
 */
export function svidkitCodeOf(error: unknown): ErrorCode | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const metadata = (error as { metadata?: unknown }).metadata
  if (typeof metadata !== 'object' || metadata === null) return undefined
  const get = (metadata as { get?: unknown }).get
  if (typeof get !== 'function') return undefined
  const value: unknown = get.call(metadata, SVIDKIT_CODE_HEADER)
  return typeof value === 'string' && Object.hasOwn(statusTable, value) ? (value as ErrorCode) : undefined
}
