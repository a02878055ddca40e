// The table's client for gRPC adapters: each HTTP-shaped scenario request becomes one real unary gRPC
// call over TLS (node:http2 on a tls.connect socket: a fresh connection per call, the scenario's client
// certificate, its source address — which grpc-js clients cannot choose — and its headers as metadata),
// and the outcome comes back HTTP-shaped through core's status table: `grpc-status` must be the gRPC
// status of the error code (the `svidkit-error-code` trailer when the server sends one, as
// @svidkit/connect does, else the start of `grpc-message`, as @svidkit/grpc writes it), and then the
// HTTP status of that code is reported. Messages are JSON: `application/grpc` for grpc-js servers
// (their JSON serializers), `application/grpc+json` for Connect servers (`grpcJsonClient`).

import type { MethodDefinition } from '@grpc/grpc-js'
import { type ErrorCode, statusTable } from '@svidkit/core/errors'
import type { E2eClient } from './adapter.js'
import { type ClientRequest, type ClientResponse, scenarioTls, serverIs } from './client.js'
import { SELF } from './fixtures.js'
import { firstJsonMessage, grpcUnary } from './grpc-unary.js'

const TIMEOUT_MS = 5000
const SERVICE = 'svidkit.e2e.Routes'

/** The gRPC method a route path maps to: `/whoami` → `/svidkit.e2e.Routes/Whoami`. */
export function grpcMethodOf(path: string): string {
  const name = path.replace(/^\//, '')
  return `/${SERVICE}/${name.charAt(0).toUpperCase()}${name.slice(1)}`
}

/** A unary method whose messages are JSON, as the e2e servers define them. */
export function jsonUnaryMethod(path: string): MethodDefinition<unknown, unknown> {
  const serialize = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))
  const deserialize = (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8') || '{}')
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  }
}

/** An outcome that does not fit the status table shows as an impossible HTTP status. */
const MISMATCH = 900

const sender =
  (contentType: string) =>
  async (baseUrl: string, req: ClientRequest, ca: readonly string[]): Promise<ClientResponse> => {
    const r = await grpcUnary({
      url: baseUrl,
      method: grpcMethodOf(req.path),
      contentType,
      headers: { ...(req.headers as Record<string, string | string[]>) },
      tls: { ...scenarioTls(req, ca), checkServerIdentity: serverIs(SELF) },
      timeoutMs: TIMEOUT_MS,
    })
    if (r.kind === 'failed') throw new Error(`gRPC call ${req.path}: ${r.stage}: ${r.error}`)
    if (r.grpcStatus === 0) return { status: 200, headers: {}, body: firstJsonMessage(r.data) }
    const entry = r.code === undefined ? undefined : statusTable[r.code as ErrorCode]
    const status = entry?.grpc === r.grpcStatus ? entry.http : MISMATCH + r.grpcStatus
    return {
      status,
      headers: {},
      body: { statusCode: status, code: r.code, message: r.message, grpcStatus: r.grpcStatus },
    }
  }

/** Real gRPC over TLS, reported HTTP-shaped; no HTTP response headers to check. */
export const grpcClient: E2eClient = { send: sender('application/grpc'), httpHeaders: false }

/** The same with the JSON codec of gRPC (`application/grpc+json`), which Connect servers speak. */
export const grpcJsonClient: E2eClient = { send: sender('application/grpc+json'), httpHeaders: false }
