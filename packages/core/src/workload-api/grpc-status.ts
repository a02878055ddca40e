// Maps gRPC failures of Workload API calls to WorkloadApiError codes, and decides which ones a watch
// retries (Workload Endpoint §6). Not exported from the package.
import { status as GrpcStatus } from '@grpc/grpc-js'
import { WorkloadApiError } from '../errors/domain-errors.js'
import type { ErrorCode } from '../errors/status-table.js'
import { SvidkitError } from '../errors/svidkit-error.js'

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(GrpcStatus)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
)

/** @internal The gRPC status name (`PERMISSION_DENIED`) of a code. */
export function grpcStatusName(code: number): string {
  return NAMES[code] ?? `code ${code}`
}

interface GrpcLikeError {
  code: number
  details?: string
}

function isGrpcError(e: unknown): e is GrpcLikeError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number'
}

/** @internal The gRPC code carried by a WorkloadApiError (in `details.grpcCode`), if any. */
export function grpcCodeOf(err: unknown): number | undefined {
  if (err instanceof SvidkitError) {
    const c = err.details?.grpcCode
    return typeof c === 'number' ? c : undefined
  }
  return isGrpcError(err) ? err.code : undefined
}

/** @internal Whether `signal` was aborted by a timeout (`AbortSignal.timeout`). */
function isTimeout(signal: AbortSignal | undefined): boolean {
  const r: unknown = signal?.reason
  return typeof r === 'object' && r !== null && (r as { name?: unknown }).name === 'TimeoutError'
}

/** @internal The error for a call given up because `signal` aborted. */
export function abortedError(rpc: string, signal: AbortSignal | undefined): WorkloadApiError {
  return isTimeout(signal)
    ? new WorkloadApiError('ERR_WORKLOAD_API_TIMEOUT', `${rpc} timed out`, { cause: signal?.reason })
    : new WorkloadApiError('ERR_WORKLOAD_API_ABORTED', `${rpc} was aborted`, { cause: signal?.reason })
}

/**
 * @internal Converts whatever a call failed with into a WorkloadApiError. With `validate`, an
 * `InvalidArgument` means "the token is invalid" (SPIRE answers a failed ValidateJWTSVID that way).
 */
export function toWorkloadApiError(
  err: unknown,
  rpc: string,
  signal?: AbortSignal,
  options: { validate?: boolean } = {},
): WorkloadApiError {
  if (signal?.aborted) return abortedError(rpc, signal)
  if (err instanceof WorkloadApiError) return err
  if (!isGrpcError(err)) {
    return new WorkloadApiError('ERR_WORKLOAD_API_FAILED', `${rpc} failed`, { cause: err })
  }
  let code: ErrorCode
  switch (err.code) {
    case GrpcStatus.UNAVAILABLE:
      code = 'ERR_WORKLOAD_API_UNAVAILABLE'
      break
    case GrpcStatus.PERMISSION_DENIED:
      code = 'ERR_WORKLOAD_API_PERMISSION_DENIED'
      break
    case GrpcStatus.INVALID_ARGUMENT:
      code = options.validate ? 'ERR_WORKLOAD_API_JWT_SVID_INVALID' : 'ERR_WORKLOAD_API_INVALID_ARGUMENT'
      break
    case GrpcStatus.UNIMPLEMENTED:
      code = 'ERR_WORKLOAD_API_UNIMPLEMENTED'
      break
    case GrpcStatus.DEADLINE_EXCEEDED:
      code = 'ERR_WORKLOAD_API_TIMEOUT'
      break
    default:
      code = 'ERR_WORKLOAD_API_FAILED'
  }
  const name = grpcStatusName(err.code)
  // grpc-js appends an empty "Resolution note: " to connection failures; drop it.
  const text = typeof err.details === 'string' ? err.details.replace(/\.?\s*Resolution note:\s*$/, '') : ''
  const details = text !== '' ? text : undefined
  const reason =
    code === 'ERR_WORKLOAD_API_JWT_SVID_INVALID'
      ? `the agent rejected the JWT-SVID${details ? `: ${details}` : ''}`
      : `${rpc} failed with ${name}${details ? `: ${details}` : ''}`
  return new WorkloadApiError(code, reason, {
    cause: err,
    details: { rpc, grpcCode: err.code, grpcStatus: name, ...(details ? { grpcDetails: details } : {}) },
  })
}

/**
 * @internal Whether a watch must stop after this error: `InvalidArgument` (the request itself is
 * wrong, e.g. the security header) and `Unimplemented` (the profile is not served) are final;
 * everything else (Unavailable, PermissionDenied, Unknown, a dropped connection…) is retried.
 */
export function isFatalWatchError(err: WorkloadApiError): boolean {
  const c = grpcCodeOf(err)
  return c === GrpcStatus.INVALID_ARGUMENT || c === GrpcStatus.UNIMPLEMENTED
}
