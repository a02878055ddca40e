// The client side of the gRPC and Connect adapters: one unary call per connection (node:http2 on a
// fresh tls.connect socket, so every call is also a handshake and may come from a chosen local
// address, which grpc-js clients cannot do), JSON messages (`application/grpc` to grpc-js with its
// JSON serializers, `application/grpc+json` to Connect), and the outcome reported HTTP-shaped through
// core's status table: a refusal's svidkit code is the `svidkit-error-code` trailer (@svidkit/connect)
// or the start of `grpc-message` (@svidkit/grpc), and when `grpc-status` is that code's gRPC status,
// the code's HTTP status is reported; any other answer shows as 900 + the gRPC status (no expectation
// matches it).
import type { OutgoingHttpHeaders } from 'node:http2'
import { type ErrorCode, statusTable } from '@svidkit/core/errors'

import { firstJsonMessage, grpcUnary } from '../../e2e/harness/grpc-unary.js'
import { checkServer } from './https-call.js'
import type {
  CallOutcome,
  CallRequest,
  ClientCertificate,
  RawCallRequest,
  RunningService,
} from './service.js'

/** The two operations as gRPC methods. */
export const RESILIENCE_METHODS = {
  whoami: '/svidkit.resilience.Service/Whoami',
  healthz: '/svidkit.resilience.Service/Healthz',
} as const

const MISMATCH = 900

interface Http2Call {
  readonly contentType: string
  readonly method: string
  readonly headers: OutgoingHttpHeaders
  readonly certificate?: ClientCertificate
  readonly trust: readonly string[]
  readonly serverId?: string
  readonly from?: string
  readonly timeoutMs: number
}

async function send(service: RunningService, c: Http2Call): Promise<CallOutcome> {
  const r = await grpcUnary({
    url: service.url,
    method: c.method,
    contentType: c.contentType,
    headers: c.headers,
    tls: {
      ca: [...c.trust],
      checkServerIdentity: checkServer(c.serverId),
      ...(c.certificate ? { cert: c.certificate.cert, key: c.certificate.key } : {}),
      ...(c.from ? { localAddress: c.from } : {}),
    },
    timeoutMs: c.timeoutMs,
  })
  if (r.kind === 'failed') return r
  if (r.grpcStatus === 0) return { kind: 'ok', status: 200, body: firstJsonMessage(r.data) }
  const entry = r.code === undefined ? undefined : statusTable[r.code as ErrorCode]
  const known = entry !== undefined && entry.grpc === r.grpcStatus
  const status = known ? entry.http : MISMATCH + r.grpcStatus
  return {
    kind: 'refused',
    status,
    code: known ? r.code : undefined,
    body: { statusCode: status, code: r.code, message: r.message, grpcStatus: r.grpcStatus },
  }
}

/** The client of a gRPC-style adapter: its calls with the given message content type. */
export interface GrpcClient {
  call(service: RunningService, req: CallRequest): Promise<CallOutcome>
  callRaw(service: RunningService, req: RawCallRequest): Promise<CallOutcome>
}

/** `application/grpc` (grpc-js with JSON serializers) or `application/grpc+json` (Connect). */
export function grpcClient(contentType: string): GrpcClient {
  return {
    /** One unary call of `whoami`/`healthz` with the request's credentials as metadata. */
    call(service, req) {
      const headers: OutgoingHttpHeaders = {}
      if (req.bearer !== undefined) headers.authorization = `Bearer ${req.bearer}`
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k] = typeof v === 'string' ? v : [...v]
      return send(service, {
        contentType,
        method: RESILIENCE_METHODS[req.operation],
        headers,
        ...(req.certificate ? { certificate: req.certificate } : {}),
        trust: req.trust,
        ...(req.serverId === undefined ? {} : { serverId: req.serverId }),
        ...(req.from === undefined ? {} : { from: req.from }),
        timeoutMs: req.timeoutMs ?? 5000,
      })
    },
    /** One call with the raw header lines as metadata entries, in order (a repeated name as several). */
    callRaw(service, req) {
      const headers: Record<string, string[]> = {}
      for (const [name, value] of req.lines) {
        const key = name.toLowerCase()
        // Bytes go as they are (latin1 keeps each byte), as an HTTP/1 client would write them.
        const values = headers[key] ?? []
        values.push(typeof value === 'string' ? value : value.toString('latin1'))
        headers[key] = values
      }
      return send(service, {
        contentType,
        method: RESILIENCE_METHODS[req.operation],
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.length === 1 ? v[0]! : v])),
        ...(req.certificate ? { certificate: req.certificate } : {}),
        trust: req.trust,
        ...(req.from === undefined ? {} : { from: req.from }),
        timeoutMs: 5000,
      })
    },
  }
}
