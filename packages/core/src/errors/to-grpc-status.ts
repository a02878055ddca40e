import { statusTable } from './status-table.js'
import { toSvidkitError } from './to-svidkit-error.js'

/**
 * A gRPC status to send: numeric `code` and `details` text.
 *
 * @example
 * ```ts
 * const status: GrpcErrorStatus = toGrpcStatus(new CredentialsError('ERR_CREDENTIALS_MISSING', 'no credentials'))
 * status.code // 16 (UNAUTHENTICATED)
 * status.details // 'ERR_CREDENTIALS_MISSING: credentials: no credentials'
 * ```
 */
export interface GrpcErrorStatus {
  /** 3 INVALID_ARGUMENT, 7 PERMISSION_DENIED, 13 INTERNAL, 14 UNAVAILABLE or 16 UNAUTHENTICATED. */
  readonly code: number
  /** `<code>: <domain>: <reason>`. */
  readonly details: string
}

/**
 * Maps any error to a gRPC status from the one status table (16 UNAUTHENTICATED vs 7 PERMISSION_DENIED).
 *
 * @example
 * ```ts
 * const { code, details } = toGrpcStatus(err)
 * call.sendStatus({ code, details, metadata: new Metadata() })
 * ```
 */
export function toGrpcStatus(error: unknown): GrpcErrorStatus {
  const err = toSvidkitError(error)
  return { code: statusTable[err.code].grpc, details: `${err.code}: ${err.message}` }
}
