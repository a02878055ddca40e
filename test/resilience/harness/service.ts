// The contract between the resilience suite and one adapter, on both sides of the wire: an adapter
// starts a service (`start`) and knows how to call it (`call`). The load generator, the bad-input table
// and the soaks only use this interface, so another adapter (gRPC, NestJS) plugs in by implementing it
// in `adapters/<name>.ts` and adding itself to `adapters/index.ts`:
//
// - `start(config)`: serve two operations — `whoami` (a caller is required) and `healthz` (public) —
//   verified by svidkit with `config.verifier`, on TLS built from `config.tls` (call `config.tls.attach`
//   on the server before it listens: it installs the service's certificate and rotates it). Every
//   handler answers `config.respond(operation, caller, receivedAt)`, and nothing else reaches a handler.
// - `call(service, request)`: one call of `whoami`/`healthz` presenting the request's credentials
//   (client certificate, bearer token, forwarded header lines), reported as a `CallOutcome`.
//
// A gRPC adapter maps `whoami`/`healthz` to two unary methods and headers to metadata, serves TLS from
// `config.tls.source` (its SVID listener rotates by itself), and reports a refusal HTTP-shaped: the
// HTTP status of the error code in `grpc-message`, once `grpc-status` is that code's gRPC status in
// core's status table (so expectations are written once, in HTTP statuses and codes).
import type { TlsOptions, Server as TlsServer } from 'node:tls'
import type { Caller, CallerVerifierOptions } from '@svidkit/core/caller'
import type { TlsSource } from '@svidkit/core/tls'
import type { X509Source } from '@svidkit/core/workload-api'
import type { X509Svid } from '@svidkit/core/x509-svid'

/** The two operations every service under test serves. */
export type Operation = 'whoami' | 'healthz'

/** What an adapter must serve. */
export interface ServiceConfig {
  /** Listen here, on an ephemeral port. */
  readonly host: string
  /** Server TLS: options for the server, and `attach(server)` to call once it exists (before listen). */
  readonly tls: ServiceTls
  /** Core's caller verifier options, passed to the adapter as they are. */
  readonly verifier: CallerVerifierOptions
  /**
   * The body every handler answers. `caller` is what svidkit attached (none on `healthz`);
   * `receivedAt` is when the request arrived (ms since the epoch), before svidkit verified it.
   */
  respond(operation: Operation, caller: Caller | undefined, receivedAt: number): unknown
  /** Framework log lines go here (Fastify's logger at level trace); adapters without one ignore it. */
  readonly log?: { write(line: string): void }
  /** Node's `maxHeaderSize` for the server (default Node's 16 KiB). */
  readonly maxHeaderSize?: number
}

/** Server TLS for {@link ServiceConfig}. */
export interface ServiceTls {
  readonly options: TlsOptions
  attach(server: TlsServer): void
  /** The same server identity as a source, for adapters that serve TLS from one (gRPC's `serveSvid`). */
  readonly source: TlsSource
}

/** A started service. */
export interface RunningService {
  /** `https://127.0.0.1:<port>` for HTTP adapters; an address the adapter's `call` understands otherwise. */
  readonly url: string
  close(): Promise<void>
}

/** Client TLS credentials of one call. */
export interface ClientCertificate {
  readonly cert: string
  readonly key: string
}

/** One call of the load generator, the bad-input table or a scenario. */
export interface CallRequest {
  readonly operation: Operation
  /** Present this client certificate (PEM chain and key). */
  readonly certificate?: ClientCertificate
  /** `authorization: Bearer <token>`. */
  readonly bearer?: string
  /** Extra header lines (metadata for gRPC); an array is sent as several lines. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>
  /** PEM authorities the client trusts for the server's certificate. */
  readonly trust: readonly string[]
  /** The SPIFFE ID the server's certificate must carry (checked by the client). */
  readonly serverId?: string
  /** Connect from this local address (127.0.0.2 is the trusted proxy). */
  readonly from?: string
  /** Give up after this long. Default 5 s. */
  readonly timeoutMs?: number
}

/** What happened to one call. */
export type CallOutcome =
  /** The handler answered. */
  | { readonly kind: 'ok'; readonly status: number; readonly body: unknown }
  /** svidkit (or the server) refused it with a status and, from svidkit, an error code. */
  | {
      readonly kind: 'refused'
      readonly status: number
      readonly code: string | undefined
      readonly body: unknown
    }
  /** No answer: the connection or the TLS handshake failed, or it timed out. */
  | {
      readonly kind: 'failed'
      readonly stage: 'handshake' | 'connection' | 'timeout'
      readonly error: string
    }

/**
 * A call of the bad-input table: header lines exactly as given, in order (the same name twice, raw
 * bytes, any size). HTTP adapters write them on the wire as they are; a gRPC adapter sends them as
 * metadata entries.
 */
export interface RawCallRequest {
  readonly operation: Operation
  readonly lines: readonly (readonly [string, string | Buffer])[]
  readonly certificate?: ClientCertificate
  readonly trust: readonly string[]
  readonly from?: string
}

/** An adapter under test, server and client side. */
export interface ResilienceAdapter {
  readonly name: string
  /**
   * `http` (HTTP/1.1 over TLS), `grpc` (HTTP/2, grpc-js) or `connect` (HTTP/2, Node's own server,
   * called with the gRPC protocol): the bad-input table differs by transport.
   */
  readonly transport: 'http' | 'grpc' | 'connect'
  start(config: ServiceConfig): Promise<RunningService>
  call(service: RunningService, request: CallRequest): Promise<CallOutcome>
  callRaw(service: RunningService, request: RawCallRequest): Promise<CallOutcome>
}

/**
 * Server TLS from a static certificate (and `source`, the service's static X.509-SVID for adapters
 * that serve from a source): the client certificate is requested but judged by svidkit, not OpenSSL,
 * so a bad one reaches the verifier and yields a status and a code.
 */
export function staticServerTls(key: string, cert: string, source: TlsSource): ServiceTls {
  return {
    options: { key, cert, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    attach: () => {},
    source,
  }
}

/**
 * Server TLS from the service's own `X509Source`: the current SVID is installed before the first
 * connection and again whenever the source rotates it (checked on each new connection too). When the
 * source has no valid SVID (the agent stayed away past its expiry), the server keeps its last
 * certificate, which clients then refuse as expired: the service fails closed, and `source.healthy`
 * says why. Client certificates are requested and judged by svidkit.
 */
export function rotatingServerTls(source: X509Source): ServiceTls {
  return {
    source,
    options: { requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    attach(server) {
      let current: X509Svid | undefined
      const refresh = (): void => {
        let svid: X509Svid
        try {
          svid = source.getX509Svid()
        } catch {
          return // no valid SVID: keep the last one; health reports it
        }
        if (svid === current) return
        server.setSecureContext({
          key: svid.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
          cert: svid.certificates.map((c) => c.toString()).join(''),
          minVersion: 'TLSv1.2',
        })
        current = svid
      }
      refresh()
      server.prependListener('connection', refresh)
      source.on('update', refresh)
      server.once('close', () => source.off('update', refresh))
    },
  }
}
