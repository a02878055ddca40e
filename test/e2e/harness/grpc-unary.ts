// One unary gRPC call on its own connection (node:http2 over a fresh tls.connect socket, so the
// caller chooses the client certificate and the source address, which grpc-js clients cannot), with
// a JSON payload, for the e2e table's gRPC clients and the resilience suite's. The answer is raw:
// the gRPC status, `grpc-message`, the svidkit code (the `svidkit-error-code` trailer that
// @svidkit/connect sends, else the start of `grpc-message`, as @svidkit/grpc writes it) and the
// response bytes; or where it failed.
import { connect as http2Connect, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2'
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls'

/** One call. */
export interface GrpcUnaryCall {
  /** `https://host:port`. */
  readonly url: string
  /** `/package.Service/Method`. */
  readonly method: string
  /** `application/grpc` (grpc-js with JSON serializers) or `application/grpc+json` (Connect). */
  readonly contentType: string
  /** Metadata: an array value is sent as several fields. */
  readonly headers: OutgoingHttpHeaders
  /** TLS options of the connection (trust, client certificate, local address, server check). */
  readonly tls: ConnectionOptions
  readonly timeoutMs: number
}

/** What came back. */
export type GrpcUnaryResult =
  | {
      readonly kind: 'answer'
      readonly grpcStatus: number
      readonly message: string
      /** The svidkit error code the answer names, if any. */
      readonly code: string | undefined
      /** The response body: framed messages. */
      readonly data: Buffer
    }
  | {
      readonly kind: 'failed'
      /** Before the TLS handshake completed, after it, or no answer in time. */
      readonly stage: 'handshake' | 'connection' | 'timeout'
      readonly error: string
    }

/** A gRPC message frame: uncompressed flag, 4-byte length, payload. */
function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(payload.length, 1)
  return Buffer.concat([head, payload])
}

/** The first message of a successful answer, parsed as JSON (`null` when there is none). */
export function firstJsonMessage(data: Buffer): unknown {
  return data.length >= 5 ? JSON.parse(data.subarray(5).toString('utf8')) : null
}

/** Sends `{}` to `call.method` and waits for the status (bounded by `call.timeoutMs`). */
export function grpcUnary(call: GrpcUnaryCall): Promise<GrpcUnaryResult> {
  const url = new URL(call.url)
  return new Promise<GrpcUnaryResult>((resolve) => {
    let secure = false
    let settled = false
    let session: ReturnType<typeof http2Connect> | undefined
    const done = (r: GrpcUnaryResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      session?.destroy()
      resolve(r)
    }
    const failed = (e: Error): void =>
      done({ kind: 'failed', stage: secure ? 'connection' : 'handshake', error: e.message })
    const timer = setTimeout(
      () => done({ kind: 'failed', stage: 'timeout', error: `no answer within ${call.timeoutMs} ms` }),
      call.timeoutMs,
    )
    try {
      session = http2Connect(call.url, {
        createConnection: () => {
          const socket = tlsConnect({
            ...call.tls,
            host: url.hostname,
            port: Number(url.port),
            ALPNProtocols: ['h2'],
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
        ':path': call.method,
        'content-type': call.contentType,
        te: 'trailers',
        ...call.headers,
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
        const trailer = trailers['svidkit-error-code'] ?? headers['svidkit-error-code']
        const colon = message.indexOf(':')
        done({
          kind: 'answer',
          grpcStatus: Number(status),
          message,
          code: typeof trailer === 'string' ? trailer : colon > 0 ? message.slice(0, colon) : undefined,
          data: Buffer.concat(chunks),
        })
      })
      stream.end(frame(Buffer.from('{}')))
    } catch (e) {
      // Node refuses to send some header values (control characters): the call never leaves.
      failed(e as Error)
    }
  })
}
