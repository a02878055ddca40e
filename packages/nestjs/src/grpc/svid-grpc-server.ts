import { type ChannelOptions, Server, status } from '@grpc/grpc-js'
import { type GrpcOptions, ServerGrpc } from '@nestjs/microservices'
import { OptionsError } from '@svidkit/core/errors'
import { type ServeSvidOptions, type SvidListener, serveSvid, tlsSocketOf } from '@svidkit/grpc'
import { useGrpcConnections } from '../grpc-connection.js'
import { bufferUntilDrained } from './buffer-until-drained.js'

/**
 * The options of Nest's gRPC transport that {@link SvidGrpcServer} takes (all of them but
 * `credentials`: the SVID listener is the TLS).
 *
 * @example
 * ```ts
 * const grpc: SvidGrpcTransportOptions = { package: 'orders.v1', protoPath: 'orders.proto', url: '0.0.0.0:50051' }
 * ```
 */
export type SvidGrpcTransportOptions = Omit<GrpcOptions['options'], 'credentials'>

/**
 * The SVID listener's options: `@svidkit/grpc`'s `serveSvid` options (`source`, `authorize`,
 * `clientCertificate`, `closeGraceMs`…) without `address`, which is the transport's `url`.
 *
 * @example
 * ```ts
 * const svid: SvidGrpcListenerOptions = { source, clientCertificate: 'requested' }
 * ```
 */
export type SvidGrpcListenerOptions = Omit<ServeSvidOptions, 'address'>

function bad(reason: string): never {
  throw new OptionsError('ERR_OPTIONS_INVALID', `@svidkit/nestjs/grpc: ${reason}`)
}

type StreamCall = Parameters<ReturnType<ServerGrpc['createStreamCallMethod']>>[0]
type StreamCallback = Parameters<ReturnType<ServerGrpc['createStreamCallMethod']>>[1]

/**
 * Ends a stream call with the status of `err`, the `{ code, message }` Nest's RPC exception filter
 * rethrows (code 2 UNKNOWN for anything else, as Nest's other handlers do).
 */
function answerWithError(call: StreamCall, callback: StreamCallback | undefined, err: unknown): void {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown }
  const code = typeof e.code === 'number' && Number.isInteger(e.code) ? e.code : status.UNKNOWN
  const details = typeof e.message === 'string' ? e.message : 'Internal server error'
  try {
    if (callback) callback(Object.assign(new Error(details), { code, details }), null)
    else call.emit('error', { code, details })
  } catch {
    // The call was already answered: nothing more can be sent.
  }
}

/**
 * Nest's gRPC transport (`ServerGrpc`) served on the SVID listener of `@svidkit/grpc`
 * (`serveSvid`): a TLS listener that presents the source's X.509-SVID (rotated without a restart) and
 * hands each connection, its client chain verified by core once per connection, to the transport's
 * grpc-js server. `SvidkitGuard` then reads each call's verified connection (the whole chain, never
 * grpc-js's leaf-only `getAuthContext()`), so the mTLS channel names the caller, and refuses with
 * 16 UNAUTHENTICATED or 7 PERMISSION_DENIED.
 *
 * Use it as a custom strategy: `NestFactory.createMicroservice(AppModule, { strategy })`, or in a hybrid
 * application `app.connectMicroservice({ strategy }, { inheritAppConfig: true })` (without
 * `inheritAppConfig` global guards do not reach the microservice). With `clientCertificate:
 * 'requested'` a client without a certificate reaches the guard, so `@Public()` methods (health checks)
 * need none, and a bad certificate gets 16 with the reason; with `'required'` (the default) refused
 * peers are cut in the handshake.
 *
 * @throws OptionsError `ERR_OPTIONS_INVALID` for `credentials` in the transport options (the listener is the
 * TLS) or bad listener options (when the transport starts listening).
 * @example
 * ```ts
 * import { SvidGrpcServer } from '@svidkit/nestjs/grpc'
 *
 * const app = await NestFactory.create(AppModule)
 * app.connectMicroservice(
 *   {
 *     strategy: new SvidGrpcServer(
 *       { package: 'orders.v1', protoPath: join(__dirname, 'orders.proto'), url: '0.0.0.0:50051' },
 *       { source: app.get(SVIDKIT_X509_SOURCE), clientCertificate: 'requested' },
 *     ),
 *   },
 *   { inheritAppConfig: true },
 * )
 * await app.startAllMicroservices()
 * ```
 */
export class SvidGrpcServer extends ServerGrpc {
  readonly #transport: SvidGrpcTransportOptions
  readonly #listenerOptions: SvidGrpcListenerOptions
  #listener: SvidListener | undefined

  constructor(transport: SvidGrpcTransportOptions, listener: SvidGrpcListenerOptions) {
    if (typeof transport !== 'object' || transport === null) bad('the transport options must be an object')
    if (typeof listener !== 'object' || listener === null) bad('the listener options must be an object')
    if ('credentials' in transport && transport.credentials !== undefined) {
      bad('"credentials" cannot be set: the SVID listener is the TLS (see its options)')
    }
    if ('address' in listener) bad('the listener listens on the transport\'s "url"')
    super(transport)
    this.#transport = transport
    this.#listenerOptions = listener
    // The guard finds each call's verified connection through @svidkit/grpc's connection table.
    useGrpcConnections(tlsSocketOf)
    // Client-stream messages that arrive while the guard decides reach the handler, on Nest 11 too.
    if (typeof (this as unknown as { bufferUntilDrained?: unknown }).bufferUntilDrained === 'function') {
      Object.defineProperty(this, 'bufferUntilDrained', { value: bufferUntilDrained, writable: true })
    }
  }

  /** The transport's grpc-js server, served on the SVID listener instead of a bound port. */
  override async createClient(): Promise<Server> {
    const t = this.#transport
    const channelOptions: ChannelOptions = {
      ...t.channelOptions,
      ...(t.maxSendMessageLength ? { 'grpc.max_send_message_length': t.maxSendMessageLength } : {}),
      ...(t.maxReceiveMessageLength ? { 'grpc.max_receive_message_length': t.maxReceiveMessageLength } : {}),
      ...(t.maxMetadataSize ? { 'grpc.max_metadata_size': t.maxMetadataSize } : {}),
      ...this.getKeepaliveOptions(),
    }
    const server = new Server(channelOptions)
    this.#listener = await serveSvid(server, { ...this.#listenerOptions, address: this.url })
    return server
  }

  /**
   * Nest's `@GrpcStreamCall` handlers, made to answer the call when the handler's pipeline fails. In
   * Nest's own transport (11 and 12) a guard's `RpcException` on a `@GrpcStreamCall` handler is an
   * unhandled promise rejection: the client never gets a status (it waits for its deadline) and Node
   * may end the process. Here the call gets the exception's status (16/7 from the guard), as
   * `@GrpcMethod` and `@GrpcStreamMethod` calls do.
   */
  override createStreamCallMethod(
    methodHandler: Parameters<ServerGrpc['createStreamCallMethod']>[0],
    isResponseStream: boolean,
  ): ReturnType<ServerGrpc['createStreamCallMethod']> {
    const handle = super.createStreamCallMethod(methodHandler, isResponseStream)
    return async (call, callback) => {
      try {
        await handle(call, callback)
      } catch (err) {
        answerWithError(call, isResponseStream ? undefined : callback, err)
      }
    }
  }

  /** The SVID listener's port (the real one when the `url` asked for port 0), once listening. */
  get port(): number | undefined {
    return this.#listener?.port
  }

  /**
   * Closes the listener (letting calls finish for its `closeGraceMs` with `gracefulShutdown`, at once
   * otherwise), then the transport.
   */
  override async close(): Promise<void> {
    const listener = this.#listener
    this.#listener = undefined
    await listener?.close(this.#transport.gracefulShutdown ? {} : { graceMs: 0 })
    await super.close()
  }
}
