// Shared plumbing for the @svidkit/grpc tests: a JSON "Echo" service with the four call kinds (no
// protobuf needed), a real grpc-js server on an SVID listener on 127.0.0.1:0, clients, bounded waits.
import * as grpc from '@grpc/grpc-js'
import type { Caller } from '@svidkit/core/caller'
import { callerOf } from '@svidkit/grpc'

export const HOST = '127.0.0.1'

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8')),
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

/** The four call kinds of gRPC, JSON-encoded. */
export const ECHO: grpc.ServiceDefinition = {
  unary: method('Unary', false, false),
  serverStream: method('ServerStream', false, true),
  clientStream: method('ClientStream', true, false),
  bidi: method('Bidi', true, true),
}

export const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'svidkit.test.Echo')
export type EchoClient = InstanceType<typeof EchoClient>

/** What a caller looks like in a reply. */
export function who(caller: Caller | undefined): string | null {
  if (!caller) return null
  return caller.channel === 'oidc' ? caller.principal.sub : `${caller.spiffeId} via ${caller.channel}`
}

/** Events the handlers saw, in order (messages, handler starts), to check what ran before a decision. */
export type Events = string[]

/** Handlers answering who called; each records what it received into `events`. */
export function echoHandlers(events: Events): grpc.UntypedServiceImplementation {
  return {
    unary(call: grpc.ServerUnaryCall<{ n?: number }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      events.push(`unary:${JSON.stringify(call.request)}`)
      callback(null, { caller: who(callerOf(call)), metadataCaller: who(callerOf(call.metadata)) })
    },
    serverStream(call: grpc.ServerWritableStream<{ n?: number }, unknown>) {
      events.push(`serverStream:${JSON.stringify(call.request)}`)
      const n = call.request.n ?? 2
      for (let i = 0; i < n; i++) call.write({ i, caller: who(callerOf(call)) })
      call.end()
    },
    clientStream(call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
      events.push('clientStream:start')
      let count = 0
      call.on('data', (m) => {
        count++
        events.push(`clientStream:${JSON.stringify(m)}`)
      })
      call.on('end', () => callback(null, { count, caller: who(callerOf(call)) }))
    },
    bidi(call: grpc.ServerDuplexStream<unknown, unknown>) {
      events.push('bidi:start')
      call.on('data', (m) => {
        events.push(`bidi:${JSON.stringify(m)}`)
        call.write({ echo: m, caller: who(callerOf(call)) })
      })
      call.on('end', () => call.end())
    },
  }
}

/** Rejects after `ms`: every network wait in these tests is bounded. */
export function within<T>(promise: Promise<T>, ms = 5000, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** A finished call: the reply or the status error. */
export type Outcome<T = unknown> = { ok: true; value: T } | { ok: false; code: number; details: string }

function outcome<T>(
  run: (done: (err: grpc.ServiceError | null, value?: T) => void) => void,
): Promise<Outcome<T>> {
  return within(
    new Promise<Outcome<T>>((resolve) => {
      run((err, value) => {
        if (err) resolve({ ok: false, code: err.code, details: err.details })
        else resolve({ ok: true, value: value as T })
      })
    }),
    8000,
    'grpc call',
  )
}

const deadline = () => Date.now() + 6000

/** One unary call. */
export function unary(
  client: EchoClient,
  request: unknown = {},
  options: { metadata?: grpc.Metadata; callOptions?: grpc.CallOptions } = {},
): Promise<Outcome> {
  return outcome((done) =>
    client.unary!(
      request,
      options.metadata ?? new grpc.Metadata(),
      { deadline: deadline(), ...options.callOptions },
      done,
    ),
  )
}

/** A server-streaming call: every message, or the status error. */
export function serverStream(client: EchoClient, request: unknown = {}): Promise<Outcome<unknown[]>> {
  return outcome((done) => {
    const messages: unknown[] = []
    const call = client.serverStream!(request, new grpc.Metadata(), { deadline: deadline() })
    call.on('data', (m: unknown) => messages.push(m))
    call.on('error', (err: grpc.ServiceError) => done(err))
    call.on('end', () => done(null, messages))
  })
}

/** A client-streaming call writing `messages` at once (before any answer). */
export function clientStream(client: EchoClient, messages: unknown[]): Promise<Outcome> {
  return outcome((done) => {
    const call = client.clientStream!(new grpc.Metadata(), { deadline: deadline() }, done)
    for (const m of messages) call.write(m)
    call.end()
  })
}

/** A bidi call writing `messages` at once; collects the replies. */
export function bidi(client: EchoClient, messages: unknown[]): Promise<Outcome<unknown[]>> {
  return outcome((done) => {
    const replies: unknown[] = []
    const call = client.bidi!(new grpc.Metadata(), { deadline: deadline() })
    call.on('data', (m: unknown) => replies.push(m))
    call.on('error', (err: grpc.ServiceError) => done(err))
    call.on('end', () => done(null, replies))
    for (const m of messages) call.write(m)
    call.end()
  })
}

/**
 * A client with its own subchannel pool (no connection shared with another client). The servers are
 * authorized by SPIFFE ID, never by name; the name override only keeps grpc-js from sending an IP
 * address as the TLS server name (which Node warns about, DEP0123).
 */
export function echoClient(port: number, credentials: grpc.ChannelCredentials, host = HOST): EchoClient {
  return new EchoClient(`${host}:${port}`, credentials, {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'svidkit.test',
  })
}

/** The `code` at the start of an svidkit status `details` (`ERR_…: domain: reason`). */
export function codeOfDetails(details: string): string {
  return details.slice(0, details.indexOf(':'))
}

export { grpc }
