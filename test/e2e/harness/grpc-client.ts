// The table's client for gRPC adapters: each HTTP-shaped scenario request becomes one real unary gRPC
// call over TLS (node:http2 on a tls.connect socket: a fresh connection per call, the scenario's client
// certificate, its source address — which grpc-js clients cannot choose — and its headers as metadata),
// and the outcome comes back HTTP-shaped through core's status table: `grpc-status` must be the gRPC
// status of the error code (the `svidkit-error-code` trailer when the server sends one, as
// @svidkit/connect does, else the start of `grpc-message`, as @svidkit/grpc writes it), and then the
// HTTP status of that code is reported. Messages are JSON: `application/grpc` for grpc-js servers
// (their JSON serializers), `application/grpc+json` for Connect servers (`grpcJsonClient`).

import { connect as http2Connect } from 'node:http2'
import { connect as tlsConnect } from 'node:tls'
import type { MethodDefinition } from '@grpc/grpc-js'
import { type ErrorCode, statusTable } from '@svidkit/core/errors'
import type { E2eClient } from './adapter.js'
import { type ClientRequest, type ClientResponse, scenarioTls, serverIs } from './client.js'
import { SELF } from './fixtures.js'

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

/** A gRPC message frame: uncompressed flag, 4-byte length, payload. */
function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(payload.length, 1)
  return Buffer.concat([head, payload])
}

/** An outcome that does not fit the status table shows as an impossible HTTP status. */
const MISMATCH = 900

function toResponse(grpcStatus: number, message: string, data: Buffer, svidkitCode?: string): ClientResponse {
  if (grpcStatus === 0) {
    const body = data.length >= 5 ? JSON.parse(data.subarray(5).toString('utf8')) : null
    return { status: 200, headers: {}, body }
  }
  const code = svidkitCode ?? message.slice(0, message.indexOf(':'))
  const entry = statusTable[code as ErrorCode] as (typeof statusTable)[ErrorCode] | undefined
  const status = entry?.grpc === grpcStatus ? entry.http : MISMATCH + grpcStatus
  return { status, headers: {}, body: { statusCode: status, code, message, grpcStatus } }
}

const sender = (contentType: string) => (baseUrl: string, req: ClientRequest, ca: readonly string[]) =>
  send(contentType, baseUrl, req, ca)

function send(
  contentType: string,
  baseUrl: string,
  req: ClientRequest,
  ca: readonly string[],
): Promise<ClientResponse> {
  const url = new URL(baseUrl)
  const host = url.hostname
  const port = Number(url.port)
  return new Promise<ClientResponse>((resolve, reject) => {
    const session = http2Connect(baseUrl, {
      createConnection: () =>
        tlsConnect({
          host,
          port,
          ...scenarioTls(req, ca),
          ALPNProtocols: ['h2'],
          checkServerIdentity: serverIs(SELF),
        }),
    })
    const timer = setTimeout(() => {
      session.destroy()
      reject(new Error(`gRPC call ${req.path} timed out`))
    }, TIMEOUT_MS)
    const done = (err: Error | undefined, res?: ClientResponse) => {
      clearTimeout(timer)
      session.close()
      if (err) reject(err)
      else resolve(res!)
    }
    session.on('error', (err) => done(err))
    const stream = session.request({
      ':method': 'POST',
      ':path': grpcMethodOf(req.path),
      'content-type': contentType,
      te: 'trailers',
      ...(req.headers as Record<string, string | string[]>),
    })
    let headers: Record<string, unknown> = {}
    let trailers: Record<string, unknown> = {}
    const chunks: Buffer[] = []
    stream.on('response', (h) => {
      headers = h
    })
    stream.on('trailers', (t) => {
      trailers = t
    })
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('error', (err) => done(err))
    stream.on('close', () => {
      // A trailers-only response carries the status in the headers.
      const status = trailers['grpc-status'] ?? headers['grpc-status']
      if (status === undefined) return done(new Error(`no grpc-status (HTTP ${String(headers[':status'])})`))
      const message = decodeURIComponent(String(trailers['grpc-message'] ?? headers['grpc-message'] ?? ''))
      const svidkitCode = trailers['svidkit-error-code'] ?? headers['svidkit-error-code']
      done(
        undefined,
        toResponse(
          Number(status),
          message,
          Buffer.concat(chunks),
          svidkitCode === undefined ? undefined : String(svidkitCode),
        ),
      )
    })
    stream.end(frame(Buffer.from('{}')))
  })
}

/** Real gRPC over TLS, reported HTTP-shaped; no HTTP response headers to check. */
export const grpcClient: E2eClient = { send: sender('application/grpc'), httpHeaders: false }

/** The same with the JSON codec of gRPC (`application/grpc+json`), which Connect servers speak. */
export const grpcJsonClient: E2eClient = { send: sender('application/grpc+json'), httpHeaders: false }
