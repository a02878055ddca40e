import { type Code, ConnectError } from '@connectrpc/connect'
import { statusTable, toSvidkitError } from '@svidkit/core/errors'

/**
 * The response header (Connect) or trailer (gRPC, gRPC-web) that carries the stable svidkit error
 * code of a refusal, e.g. `ERR_JWT_SVID_EXPIRED`; clients read it with {@link svidkitCodeOf}.
 *
 * @example
 * ```ts
 * err.metadata.get(SVIDKIT_CODE_HEADER) // 'ERR_ACCESS_DENIED'
 * ```
 */
export const SVIDKIT_CODE_HEADER = 'svidkit-error-code'

/**
 * Maps any error to a `ConnectError` through `@svidkit/core`'s one status table: its `code` is the
 * table's gRPC status for the svidkit code (Connect's `Code` uses the same numbers: 16
 * `Unauthenticated`, 7 `PermissionDenied`, 14 `Unavailable`, 13 `Internal`), its message is
 * `<domain>: <reason>` (never a token or key), the svidkit code is in the `svidkit-error-code`
 * metadata ({@link SVIDKIT_CODE_HEADER}), and the svidkit error is the `cause` (never sent). An error
 * that is not an svidkit error becomes 13 `ERR_INTERNAL`.
 *
 * @example
 * ```ts
 * import { toConnectError } from '@svidkit/connect'
 * try {
 *   await verifier.authorizeCaller(caller, operation, requirement)
 * } catch (err) {
 *   throw toConnectError(err) // e.g. [permission_denied] authz: …, metadata svidkit-error-code: ERR_ACCESS_DENIED
 * }
 * ```
 */
export function toConnectError(error: unknown): ConnectError {
  const err = toSvidkitError(error)
  const code = statusTable[err.code].grpc as number as Code
  return new ConnectError(err.message, code, { [SVIDKIT_CODE_HEADER]: err.code }, undefined, err)
}
