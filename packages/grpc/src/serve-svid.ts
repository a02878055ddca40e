import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls'
import { type Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js'
import { OptionsError } from '@svidkit/core/errors'
import { createMtlsServerConfig, getTlsCaller, type MtlsServerConfigOptions } from '@svidkit/core/tls'
import { trackConnection } from './tls-socket-of.js'

/**
 * Options of {@link serveSvid}: where to listen, plus core's `MtlsServerConfigOptions` (`source`,
 * `authorize`, `clientCertificate`, `identityTemplate`, `verify`, `minVersion`,
 * `secureContextOptions`, `onError`).
 *
 * @example
 * ```ts
 * const options: ServeSvidOptions = {
 *   address: '0.0.0.0:50051',
 *   source: x509Source,
 *   authorize: authorizeMemberOf('example.org'),
 * }
 * ```
 */
export interface ServeSvidOptions extends MtlsServerConfigOptions {
  /** `host:port` (`0.0.0.0:50051`, `[::]:50051`, `127.0.0.1:0` for an ephemeral port), or `{ host, port }`. */
  address: string | { readonly host?: string; readonly port: number }
  /** How long `close()` lets calls in flight finish before the connections are cut. Default 5000 ms. */
  closeGraceMs?: number
}

/**
 * A running SVID listener (see {@link serveSvid}).
 *
 * @example
 * ```ts
 * const listener: SvidListener = await serveSvid(server, { address: '127.0.0.1:0', source, authorize })
 * console.log(`listening on ${listener.host}:${listener.port}`)
 * await listener.close()
 * ```
 */
export interface SvidListener {
  /** The host the listener is bound to. */
  readonly host: string
  /** The bound port (the real one when `address` asked for port 0). */
  readonly port: number
  /** The underlying `tls.Server` (for `tlsClientError` events, connection counts). */
  readonly tlsServer: TlsServer
  /**
   * Graceful close: stops accepting, sends GOAWAY on every connection, lets calls in flight finish for
   * `graceMs` (default `closeGraceMs`), then cuts what is left. Resolves once every connection is closed.
   */
  close(options?: { graceMs?: number }): Promise<void>
  /** `close()` with the default grace, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

interface ConnectionInjector {
  injectConnection(connection: TLSSocket): void
  drain(graceTimeMs: number): void
  destroy(): void
}

const MAX_TIMER_MS = 2 ** 31 - 1

function bad(reason: string): never {
  throw new OptionsError('ERR_OPTIONS_INVALID', `serveSvid: ${reason}`)
}

function parseAddress(address: ServeSvidOptions['address']): { host: string; port: number } {
  let host: string | undefined
  let port: unknown
  if (typeof address === 'string') {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address)
    if (!m) bad(`"address" must be "host:port" (e.g. "0.0.0.0:50051" or "[::]:0"), got "${address}"`)
    host = m[1] ?? m[2]
    port = Number(m[3])
  } else if (typeof address === 'object' && address !== null) {
    host = address.host
    port = address.port
  } else bad('"address" must be "host:port" or { host, port }')
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    bad('the port must be an integer from 0 to 65535')
  }
  return { host: host === undefined || host === '' ? '0.0.0.0' : host, port }
}

/** When the peer's certificate stops being valid: the verified caller's, else the leaf's `notAfter`. */
function peerExpiry(socket: TLSSocket): number | undefined {
  const verified = getTlsCaller(socket)?.expiresAt
  if (verified) return verified.getTime()
  const validTo = socket.getPeerX509Certificate()?.validTo
  const t = validTo === undefined ? Number.NaN : Date.parse(validTo)
  return Number.isNaN(t) ? undefined : t
}

/**
 * Serves a grpc-js `Server` on a TLS listener svidkit owns (go-spiffe `grpccredentials.MTLSServerCredentials`
 * for grpc-js): a `tls.Server` configured by core's `createMtlsServerConfig` with ALPN `h2` (grpc-go
 * requires it), whose connections are handed to grpc-js with `server.createConnectionInjector()`.
 *
 * - **Verification, once per connection, by core.** With `clientCertificate: 'required'` (the
 *   default) the client's whole chain is verified as an X.509-SVID against the bundle of its own trust
 *   domain and authorized (`authorize`) in the handshake; refused peers never reach grpc-js. With
 *   `'requested'` the certificate is asked for and every connection is handed over, and
 *   {@link svidInterceptor} verifies it on the first call (cached for the connection): a bad or
 *   missing certificate then gets `UNAUTHENTICATED` with a reason, and public methods (health checks)
 *   need none. Unlike grpc-js's `getAuthContext()`, intermediates are kept, and a certificate from a
 *   foreign CA never looks like no certificate.
 * - **Rotation without restart.** The server certificate follows the source; bundles are read per
 *   handshake. Existing connections are not interrupted.
 * - **Expiry.** A connection is closed when its peer certificate expires (calls on it are refused
 *   from that moment anyway), so clients reconnect with their rotated SVID.
 * - **Graceful close.** `listener.close()`.
 *
 * `server` must come from the application's own `@grpc/grpc-js` (≥ 1.11), the peer dependency of this
 * package: a second copy of grpc-js fails `instanceof ServerCredentials` (grpc-node#1850), which is
 * reported as `ERR_OPTIONS_INVALID`. Add the svidkit interceptor to the server for per-call
 * authentication and authorization, and read the caller with {@link callerOf}.
 *
 * @throws OptionsError `ERR_OPTIONS_INVALID` for bad options or a foreign `Server`; the source's error
 * when it has no SVID yet; the listen error (e.g. `EADDRINUSE`).
 * @example
 * ```ts
 * import { Server } from '@grpc/grpc-js'
 * import { authorizeMemberOf } from '@svidkit/core/policy'
 * import { X509Source } from '@svidkit/core/workload-api'
 * import { serveSvid, svidInterceptor } from '@svidkit/grpc'
 *
 * const source = await X509Source.create()
 * const server = new Server({ interceptors: [svidInterceptor({ bundles: source })] })
 * server.addService(OrdersService, handlers)
 * const listener = await serveSvid(server, {
 *   address: '0.0.0.0:50051',
 *   source,
 *   authorize: authorizeMemberOf('example.org'),
 * })
 * process.once('SIGTERM', () => listener.close())
 * ```
 */
export async function serveSvid(server: GrpcServer, options: ServeSvidOptions): Promise<SvidListener> {
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  if (typeof (server as { createConnectionInjector?: unknown })?.createConnectionInjector !== 'function') {
    bad('"server" must be a @grpc/grpc-js Server, version 1.11 or later (createConnectionInjector)')
  }
  const { address, closeGraceMs = 5000, ...mtlsOptions } = options
  const { host, port } = parseAddress(address)
  if (typeof closeGraceMs !== 'number' || !(closeGraceMs >= 0)) bad('"closeGraceMs" must be a number ≥ 0')

  const mtls = createMtlsServerConfig(mtlsOptions)
  let injector: ConnectionInjector
  try {
    injector = server.createConnectionInjector(ServerCredentials.createInsecure()) as ConnectionInjector
  } catch (cause) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      'serveSvid: this Server comes from another copy of @grpc/grpc-js than the one @svidkit/grpc loads; install a single copy (it is a peer dependency)',
      { cause },
    )
  }

  const sockets = new Set<TLSSocket>()
  let tlsServer: TlsServer
  try {
    tlsServer = mtls.attach(createTlsServer({ ...mtls.serverOptions, ALPNProtocols: ['h2'] }))
  } catch (err) {
    injector.destroy()
    throw err
  }
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket)
    let timer: NodeJS.Timeout | undefined
    const expiry = peerExpiry(socket)
    const arm = (): void => {
      if (expiry === undefined) return
      const wait = expiry - Date.now()
      if (wait <= 0) {
        // Expired since the handshake (or at it, with 'requested'): the calls say why; a connection
        // that outlives its certificate is cut so the client reconnects with a fresh one.
        if (timer !== undefined) socket.destroy()
        return
      }
      timer = setTimeout(arm, Math.min(wait + 1, MAX_TIMER_MS))
      timer.unref()
    }
    arm()
    socket.once('close', () => {
      sockets.delete(socket)
      if (timer !== undefined) clearTimeout(timer)
    })
    trackConnection(socket)
    injector.injectConnection(socket)
  })
  // A peer refused in the handshake is destroyed by core; nothing else to do (no crash, no log here).
  tlsServer.on('tlsClientError', () => {})

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      injector.destroy()
      tlsServer.close() // releases the source's rotation listener
      reject(err)
    }
    tlsServer.once('error', onError)
    tlsServer.listen(port, host, () => {
      tlsServer.off('error', onError)
      resolve()
    })
  })
  const bound = tlsServer.address()
  const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port

  let closing: Promise<void> | undefined
  const close = (closeOptions: { graceMs?: number } = {}): Promise<void> => {
    if (closing) return closing
    const grace = closeOptions.graceMs ?? closeGraceMs
    closing = new Promise<void>((resolve) => {
      tlsServer.close(() => resolve())
      injector.drain(grace)
      const cut = setTimeout(() => {
        for (const s of sockets) s.destroy()
        injector.destroy()
      }, grace)
      cut.unref()
      tlsServer.once('close', () => {
        clearTimeout(cut)
        injector.destroy()
      })
    })
    return closing
  }

  return Object.freeze({
    host,
    port: boundPort,
    tlsServer,
    close,
    [Symbol.asyncDispose]: () => close(),
  })
}
