// The client side of the gRPC and Connect adapters: one unary call per connection (node:http2 on a
// fresh tls.connect socket, so every call is also a handshake and may come from a chosen local
// address, which grpc-js clients cannot do), JSON messages (`application/grpc` to grpc-js with its
// JSON serializers, `application/grpc+json` to Connect), and the outcome reported HTTP-shaped through
// core's status table: a refusal's svidkit code is the `svidkit-error-code` trailer (@svidkit/connect)
// or the start of `grpc-message` (@svidkit/grpc), and when `grpc-status` is that code's gRPC status,
// the code's HTTP status is reported; any other answer shows as 900 + the gRPC status (no expectation
// matches it).
import { connect as http2Connect, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2'
import { connect as tlsConnect } from 'node:tls'
import { type ErrorCode, statusTable } from '@svidkit/core/errors'

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

function outcomeOf(
  grpcStatus: number,
  message: string,
  data: Buffer,
  svidkitCode: string | undefined,
): CallOutcome {
  if (grpcStatus === 0) {
    const body = data.length >= 5 ? JSON.parse(data.subarray(5).toString('utf8')) : null
    return { kind: 'ok', status: 200, body }
  }
  const colon = message.indexOf(':')
  const code = svidkitCode ?? (colon > 0 ? message.slice(0, colon) : undefined)
  const entry = code === undefined ? undefined : statusTable[code as ErrorCode]
  const known = entry !== undefined && entry.grpc === grpcStatus
  const status = known ? entry.http : MISMATCH + grpcStatus
  return {
    kind: 'refused',
    status,
    code: known ? code : undefined,
    body: { statusCode: status, code, message, grpcStatus },
  }
}

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

function send(service: RunningService, c: Http2Call): Promise<CallOutcome> {
  const url = new URL(service.url)
  return new Promise<CallOutcome>((resolve) => {
    let secure = false
    let settled = false
    let session: ReturnType<typeof http2Connect> | undefined
    const done = (o: CallOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      session?.destroy()
      resolve(o)
    }
    const failed = (e: Error): void =>
      done({ kind: 'failed', stage: secure ? 'connection' : 'handshake', error: e.message })
    const timer = setTimeout(
      () => done({ kind: 'failed', stage: 'timeout', error: `no answer within ${c.timeoutMs} ms` }),
      c.timeoutMs,
    )
    try {
      session = http2Connect(service.url, {
        createConnection: () => {
          const socket = tlsConnect({
            host: url.hostname,
            port: Number(url.port),
            ca: [...c.trust],
            ALPNProtocols: ['h2'],
            checkServerIdentity: checkServer(c.serverId),
            ...(c.certificate ? { cert: c.certificate.cert, key: c.certificate.key } : {}),
            ...(c.from ? { localAddress: c.from } : {}),
          })
          socket.once('secureConnect', () => {
            secure = true
          })
          return socket
        },
      })
      session.on('error', failed)
      const stream = session.request({
        ':method': 'POST',
        ':path': c.method,
        'content-type': c.contentType,
        te: 'trailers',
        ...c.headers,
      })
      let headers: IncomingHttpHeaders = {}
      let trailers: IncomingHttpHeaders = {}
      const chunks: Buffer[] = []
      stream.on('response', (h) => {
        headers = h
      })
      stream.on('trailers', (t) => {
        trailers = t
      })
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('error', failed)
      stream.on('close', () => {
        // A trailers-only response carries the status in the headers.
        const status = trailers['grpc-status'] ?? headers['grpc-status']
        if (status === undefined) {
          done({
            kind: 'failed',
            stage: 'connection',
            error: `no grpc-status (HTTP ${String(headers[':status'])})`,
          })
          return
        }
        const message = decodeURIComponent(String(trailers['grpc-message'] ?? headers['grpc-message'] ?? ''))
        const code = trailers['svidkit-error-code'] ?? headers['svidkit-error-code']
        done(
          outcomeOf(
            Number(status),
            message,
            Buffer.concat(chunks),
            typeof code === 'string' ? code : undefined,
          ),
        )
      })
      const payload = Buffer.from('{}')
      const head = Buffer.alloc(5)
      head.writeUInt32BE(payload.length, 1)
      stream.end(Buffer.concat([head, payload]))
    } catch (e) {
      // Node refuses to send some header values (control characters): the call never leaves.
      failed(e as Error)
    }
  })
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
