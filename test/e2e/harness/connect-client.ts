// The table's client for the Connect protocol: each HTTP-shaped scenario request becomes one real
// Connect unary call (`POST /svidkit.e2e.Routes/<Method>`, JSON, `connect-protocol-version: 1`) over
// HTTPS/1.1 (node:https: a fresh connection per call, the scenario's client certificate, its source
// address and its header lines), and the outcome comes back HTTP-shaped through core's status table:
// the Connect error code must be the gRPC status of the `svidkit-error-code` response header's code,
// and then that code's HTTP status is reported (Connect's own HTTP status is 401 for every
// `unauthenticated`, where HTTP adapters answer a malformed Authorization header with 400).
import { request as httpsRequest } from 'node:https'
import { type ErrorCode, statusTable } from '@svidkit/core/errors'
import type { E2eClient } from './adapter.js'
import { type ClientRequest, type ClientResponse, scenarioTls, serverIs } from './client.js'
import { SELF } from './fixtures.js'
import { grpcMethodOf } from './grpc-client.js'

const TIMEOUT_MS = 5000

/** Connect's error codes (https://connectrpc.com/docs/protocol#error-codes) by gRPC status number. */
const CONNECT_CODES: Readonly<Record<string, number>> = {
  canceled: 1,
  unknown: 2,
  invalid_argument: 3,
  deadline_exceeded: 4,
  not_found: 5,
  already_exists: 6,
  permission_denied: 7,
  resource_exhausted: 8,
  failed_precondition: 9,
  aborted: 10,
  out_of_range: 11,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  data_loss: 15,
  unauthenticated: 16,
}

/** An outcome that does not fit the status table shows as an impossible HTTP status. */
const MISMATCH = 900

function toResponse(httpStatus: number, svidkitCode: string | undefined, text: string): ClientResponse {
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: keep the text, the assertion will show it
  }
  if (httpStatus === 200) return { status: 200, headers: {}, body }
  const error = (body ?? {}) as { code?: string; message?: string }
  const grpcStatus = CONNECT_CODES[error.code ?? ''] ?? 2
  const entry = statusTable[svidkitCode as ErrorCode] as (typeof statusTable)[ErrorCode] | undefined
  const status = entry?.grpc === grpcStatus ? entry.http : MISMATCH + grpcStatus
  return {
    status,
    headers: {},
    body: {
      statusCode: status,
      code: svidkitCode,
      message: error.message,
      connectCode: error.code,
      httpStatus,
    },
  }
}

function send(baseUrl: string, req: ClientRequest, ca: readonly string[]): Promise<ClientResponse> {
  const url = new URL(grpcMethodOf(req.path), baseUrl)
  const payload = Buffer.from('{}')
  return new Promise((resolve, reject) => {
    const r = httpsRequest(
      url,
      {
        method: 'POST',
        agent: false,
        ...scenarioTls(req, ca),
        checkServerIdentity: serverIs(SELF),
        headers: {
          'content-type': 'application/json',
          'connect-protocol-version': '1',
          'content-length': String(payload.length),
          ...(req.headers as Record<string, string | string[]>),
        },
        timeout: TIMEOUT_MS,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const code = res.headers['svidkit-error-code']
          resolve(
            toResponse(
              res.statusCode ?? 0,
              typeof code === 'string' ? code : undefined,
              Buffer.concat(chunks).toString('utf8'),
            ),
          )
        })
      },
    )
    r.on('timeout', () => r.destroy(new Error(`request to ${url.href} timed out`)))
    r.on('error', reject)
    r.end(payload)
  })
}

/** Real Connect unary calls over HTTPS/1.1, reported HTTP-shaped; no HTTP response headers to check. */
export const connectClient: E2eClient = { send, httpHeaders: false }
