// Shared plumbing for the @svidkit/nestjs tests: a test CA, Nest applications on real HTTPS sockets
// (Express or Fastify) and as gRPC microservices on SvidGrpcServer, an HTTPS client with an optional
// client certificate, a JSON "Echo" gRPC service with the four call kinds, bounded waits.
import { request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import * as grpc from '@grpc/grpc-js'
import type { INestApplication, NestApplicationOptions, Type } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { StaticSource } from '@svidkit/core/source'
import { matchId } from '@svidkit/core/spiffe-id'
import { svidChannelCredentials } from '@svidkit/grpc'
import { TestCA, type TestX509Svid } from '@svidkit/testing'

export const HOST = '127.0.0.1'
export const SELF = 'spiffe://example.org/ns/shop/sa/orders'
export const WEB = 'spiffe://example.org/ns/shop/sa/web'
export const ADMIN = 'spiffe://example.org/ns/ops/sa/admin'
export const BATCH = 'spiffe://example.org/ns/batch/sa/report'
export const AUDIENCE = 'spiffe://example.org/ns/shop/sa/orders'

export type Platform = 'express' | 'fastify'
export const PLATFORMS: readonly Platform[] = ['express', 'fastify']

/** The CA, the service's SVID and a few client SVIDs. */
export interface Pki {
  readonly ca: TestCA
  readonly caPem: string
  readonly server: TestX509Svid
  readonly web: TestX509Svid
  readonly admin: TestX509Svid
  readonly batch: TestX509Svid
  /** A JWT-SVID for `subject`, for this service. */
  token(subject: string, claims?: Record<string, unknown>): Promise<string>
}

export async function createPki(): Promise<Pki> {
  const ca = await TestCA.create({ trustDomain: 'example.org' })
  return {
    ca,
    caPem: ca.certificate.toString(),
    server: await ca.issueX509Svid({ id: SELF, dnsNames: ['localhost'], ipAddresses: [HOST] }),
    web: await ca.issueX509Svid({ id: WEB }),
    admin: await ca.issueX509Svid({ id: ADMIN }),
    batch: await ca.issueX509Svid({ id: BATCH }),
    token: (subject, claims = {}) => ca.mintJwtSvid({ subject, audience: AUDIENCE, claims }),
  }
}

/** Server TLS: the client certificate requested, judged by svidkit (not OpenSSL). */
export function httpsOptions(pki: Pki) {
  return {
    key: pki.server.privateKeyPem,
    cert: pki.server.certificatesPem,
    requestCert: true,
    rejectUnauthorized: false,
  }
}

/** A Nest HTTPS application of `module` on `platform`, listening on 127.0.0.1:0. */
export async function startHttp(
  platform: Platform,
  module: Type,
  pki: Pki,
  options: NestApplicationOptions = {},
): Promise<{ app: INestApplication; url: string; close(): Promise<void> }> {
  const app =
    platform === 'express'
      ? await NestFactory.create(module, { httpsOptions: httpsOptions(pki), logger: false, ...options })
      : await NestFactory.create(module, new FastifyAdapter({ https: httpsOptions(pki) }), {
          logger: false,
          ...options,
        })
  await app.listen(0, HOST)
  const { port } = app.getHttpServer().address() as AddressInfo
  return {
    app,
    url: `https://${HOST}:${port}`,
    close: async () => {
      app.getHttpServer().closeAllConnections?.()
      await app.close()
    },
  }
}

export interface HttpResult {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: unknown
}

/** One HTTPS request on a fresh connection, with an optional client certificate; bounded. */
export function send(
  pki: Pki,
  url: string,
  path: string,
  options: { method?: string; certificate?: TestX509Svid; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: hostname,
        port,
        path,
        method: options.method ?? 'GET',
        agent: false,
        ca: [pki.caPem],
        servername: 'localhost',
        ...(options.certificate
          ? { cert: options.certificate.certificatesPem, key: options.certificate.privateKeyPem }
          : {}),
        headers: { accept: 'application/json', ...options.headers },
        timeout: 5000,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          text += c
        })
        res.on('end', () => {
          let body: unknown = text
          try {
            body = JSON.parse(text)
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body })
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error(`${path} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

/** Rejects after `ms`: every network wait in these tests is bounded. */
export function within<T>(promise: Promise<T>, ms = 5000, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

// --- gRPC ---------------------------------------------------------------------------------------

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8') || '{}'),
}
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/svidkit.test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
})

/** The four call kinds, JSON-encoded, plus a second unary method. */
export const ECHO = {
  Unary: method('Unary', false, false),
  Other: method('Other', false, false),
  ServerStream: method('ServerStream', false, true),
  ClientStream: method('ClientStream', true, false),
  ClientStreamCall: method('ClientStreamCall', true, false),
  Bidi: method('Bidi', true, true),
} satisfies grpc.ServiceDefinition

/** Nest's gRPC transport options for the Echo service (a package definition: no .proto needed). */
export const ECHO_TRANSPORT = {
  package: 'svidkit.test',
  packageDefinition: { 'svidkit.test.Echo': ECHO },
  url: `${HOST}:0`,
}

const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'svidkit.test.Echo')
export type EchoClient = InstanceType<typeof EchoClient>

/** A client presenting `svid` (none: TLS without a client certificate), checking the server's SPIFFE ID. */
export function echoClient(pki: Pki, port: number, svid?: TestX509Svid): EchoClient {
  const credentials = svid
    ? svidChannelCredentials({
        source: new StaticSource({ svid, bundles: pki.ca.bundleSet() }),
        authorize: matchId(SELF),
      })
    : grpc.credentials.createSsl(Buffer.from(pki.caPem), null, null, {
        checkServerIdentity: () => undefined,
      })
  return new EchoClient(`${HOST}:${port}`, credentials, {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'localhost',
  })
}

/** A finished call: the reply or the status error. */
export type Outcome<T = unknown> = { ok: true; value: T } | { ok: false; code: number; details: string }

function outcome<T>(run: (done: (err: grpc.ServiceError | null, value?: T) => void) => void) {
  return within(
    new Promise<Outcome<T>>((resolve) => {
      run((err, value) =>
        resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, value: value as T }),
      )
    }),
    8000,
    'grpc call',
  )
}

const deadline = () => Date.now() + 6000
type Method = (...args: unknown[]) => grpc.ClientReadableStream<unknown> & grpc.ClientWritableStream<unknown>

/** A unary call to `name` (`Unary` or `Other`). */
export function unary(
  client: EchoClient,
  request: unknown = {},
  metadata = new grpc.Metadata(),
  name: 'Unary' | 'Other' = 'Unary',
): Promise<Outcome> {
  return outcome((done) => (client[name] as Method)(request, metadata, { deadline: deadline() }, done))
}

/** A server-streaming call: every message, or the status error. */
export function serverStream(client: EchoClient, request: unknown = {}): Promise<Outcome<unknown[]>> {
  return outcome((done) => {
    const messages: unknown[] = []
    const call = (client.ServerStream as Method)(request, new grpc.Metadata(), { deadline: deadline() })
    call.on('data', (m: unknown) => messages.push(m))
    call.on('error', (err: grpc.ServiceError) => done(err))
    call.on('end', () => done(null, messages))
  })
}

/** A client-streaming call to `name`, writing `messages` at once (before any answer). */
export function clientStream(
  client: EchoClient,
  messages: unknown[],
  name: 'ClientStream' | 'ClientStreamCall' = 'ClientStream',
): Promise<Outcome> {
  return outcome((done) => {
    const call = (client[name] as Method)(new grpc.Metadata(), { deadline: deadline() }, done)
    for (const m of messages) call.write(m)
    call.end()
  })
}

/** A bidi call writing `messages` at once; collects the replies. */
export function bidi(client: EchoClient, messages: unknown[]): Promise<Outcome<unknown[]>> {
  return outcome((done) => {
    const replies: unknown[] = []
    const call = (client.Bidi as Method)(new grpc.Metadata(), { deadline: deadline() })
    call.on('data', (m: unknown) => replies.push(m))
    call.on('error', (err: grpc.ServiceError) => done(err))
    call.on('end', () => done(null, replies))
    for (const m of messages) call.write(m)
    call.end()
  })
}

export { grpc }
