/**
 * The SPIFFE Workload API wire format (go-spiffe's `workload.proto`) for implementers: the proto
 * text, the grpc-js service definition of `SpiffeWorkloadAPI`, the security header, and the message
 * types. Applications never need it (use `@svidkit/core/workload-api`); `@svidkit/testing`'s dev agent
 * serves it.
 *
 * @example
 * ```ts
 * import { WORKLOAD_API_SECURITY_HEADER, workloadApiServiceDefinition } from '@svidkit/core/workload-api/proto'
 * server.addService(workloadApiServiceDefinition(), handlers)
 * ```
 * @module
 */
export type {
  JwtBundlesRequestMessage,
  JwtBundlesResponseMessage,
  JwtSvidMessage,
  JwtSvidRequestMessage,
  JwtSvidResponseMessage,
  ValidateJwtSvidRequestMessage,
  ValidateJwtSvidResponseMessage,
  WorkloadApiRpc,
  X509BundlesRequestMessage,
  X509BundlesResponseMessage,
  X509SvidMessage,
  X509SvidRequestMessage,
  X509SvidResponseMessage,
} from './workload-proto.js'
export {
  WORKLOAD_API_PROTO,
  WORKLOAD_API_SECURITY_HEADER,
  WORKLOAD_API_SERVICE_NAME,
  workloadApiServiceDefinition,
} from './workload-proto.js'
