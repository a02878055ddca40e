// The contract between the shared caller-scenario table and one adapter. An adapter only has to
// start a server from an `E2eServerConfig` (TLS on 127.0.0.1, core's verifier options, a few GET
// routes with their access rules) whose handlers answer `{ caller: callerView(caller) }`; the table
// does the rest. NestJS or gRPC adapters implement the same interface (a gRPC adapter maps each
// route path to a method and the JSON body to a response message).
import type { TlsOptions } from 'node:tls'
import type { RouteRequirement } from '@svidkit/core/adapter'
import type { Caller, CallerChannel, CallerVerifierOptions } from '@svidkit/core/caller'
import type { TestX509Svid } from '@svidkit/testing'
import type { ClientRequest, ClientResponse } from './client.js'

/** How a route is guarded. */
export type RouteAccess =
  /** A caller is required; it must also meet `requirement` when given. */
  | { readonly kind: 'required'; readonly requirement?: RouteRequirement }
  /** A caller when credentials are present (invalid ones are still refused), none otherwise. */
  | { readonly kind: 'optional'; readonly requirement?: RouteRequirement }
  /** No authentication at all: credentials are not even looked at. */
  | { readonly kind: 'public' }

/**
 * A route's access rule as core's `RouteRequirement` (`{ public }`, `{ optional, ...requirement }`, or the
 * requirement), the shape of Fastify's `config.svid` and gRPC's per-method settings; `undefined` for a
 * required route without a requirement (the adapter's default mode).
 */
export function routeAuthSpecOf(access: RouteAccess): RouteRequirement | undefined {
  switch (access.kind) {
    case 'public':
      return { public: true }
    case 'optional':
      return { optional: true, ...access.requirement }
    case 'required':
      return access.requirement
  }
}

/** One GET route of the server under test. */
export interface E2eRoute {
  readonly path: string
  readonly access: RouteAccess
}

/** What an adapter must serve. */
export interface E2eServerConfig {
  /** Listen here, on an ephemeral port. */
  readonly host: string
  /** The server's certificate and key (PEM). Use {@link tlsServerOptions} to build the TLS options. */
  readonly tls: { readonly key: string; readonly cert: string }
  /**
   * The service's own X.509-SVID (`SELF`, issued by the example.org CA, DNS SAN `localhost`), for
   * adapters whose listener serves an SVID (gRPC's `serveSvid`).
   */
  readonly svid: TestX509Svid
  /** Core's verifier options, passed to the adapter as they are. */
  readonly verifier: CallerVerifierOptions
  readonly routes: readonly E2eRoute[]
}

/** A started server. */
export interface RunningServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string
  close(): Promise<void>
}

/** How the table reaches a server: HTTPS by default (`client.ts`). */
export interface E2eClient {
  /** Sends one scenario request; the outcome comes back HTTP-shaped (status, headers, JSON body). */
  send(baseUrl: string, req: ClientRequest, ca: readonly string[]): Promise<ClientResponse>
  /**
   * `false` for a protocol without HTTP response headers (gRPC): `WWW-Authenticate` and
   * `content-type` are then not checked.
   */
  readonly httpHeaders: boolean
}

/** An adapter under test. */
export interface E2eAdapter {
  readonly name: string
  start(config: E2eServerConfig): Promise<RunningServer>
  /** The client the table uses for this adapter; default HTTPS. */
  readonly client?: E2eClient
}

/** What every handler answers, so the table can check who the handler saw. */
export interface CallerView {
  /** The SPIFFE ID, or `<iss>#<sub>` for an OIDC caller. */
  readonly id: string
  readonly channel: CallerChannel
}

/** The caller as a handler reports it (`null` when there is none). */
export function callerView(caller: Caller | undefined): CallerView | null {
  if (caller === undefined) return null
  if (caller.channel === 'oidc') {
    return { id: `${caller.principal.iss}#${caller.principal.sub}`, channel: caller.channel }
  }
  return { id: caller.spiffeId.toString(), channel: caller.channel }
}

/**
 * TLS options for the server under test: the client certificate is requested but OpenSSL does not
 * judge it (`rejectUnauthorized: false`), so every peer reaches the application and core's
 * `verifyCaller` verifies it from the socket — which is what lets the table assert a status and an
 * error code for a bad certificate instead of a failed handshake.
 */
export function tlsServerOptions(tls: E2eServerConfig['tls']): TlsOptions {
  return { key: tls.key, cert: tls.cert, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }
}
