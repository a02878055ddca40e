// svidkit's side of the gRPC pairings: a grpc-js server on @svidkit/grpc's SVID listener, with the
// svidkit interceptor guarding grpc.health.v1.Health (grpc-health-check) like any other service, and
// a Health client on svidkit channel credentials. Both read the SVID and bundles from a live source.
import * as grpc from '@grpc/grpc-js'
import type { CallerVerifierOptions } from '@svidkit/core/caller'
import type { TlsAuthorize, TlsSource } from '@svidkit/core/tls'
import { type RouteRequirement, serveSvid, svidChannelCredentials, svidInterceptor } from '@svidkit/grpc'
import { HealthImplementation, service as healthService } from 'grpc-health-check'

/** A running svidkit gRPC server. */
export interface SvidkitGrpcServer {
  readonly target: string
  /** Handshake refusals (`tlsClientError`), in order. */
  readonly refused: Error[]
  close(): Promise<void>
}

/**
 * Health (`""` and `orders` SERVING) on serveSvid. `authorize` decides in the handshake; `methods` are
 * the interceptor's per-method requirements (e.g. who may call `/grpc.health.v1.Health/Check`).
 */
export async function startSvidkitGrpcServer(
  source: TlsSource,
  options: {
    authorize?: TlsAuthorize
    methods?: Record<string, RouteRequirement>
    jwtAudience?: string
    /** Bundles for the interceptor (JWT bundles for `jwtAudience`); default `source`. */
    bundles?: CallerVerifierOptions['bundles']
  } = {},
): Promise<SvidkitGrpcServer> {
  const server = new grpc.Server({
    interceptors: [
      svidInterceptor({
        bundles: options.bundles ?? source,
        self: source,
        audit: false,
        ...(options.jwtAudience ? { jwt: { audience: options.jwtAudience } } : {}),
        ...(options.methods ? { methods: options.methods } : {}),
      }),
    ],
  })
  new HealthImplementation({ '': 'SERVING', orders: 'SERVING' }).addToServer(server)
  const listener = await serveSvid(server, {
    address: '127.0.0.1:0',
    source,
    ...(options.authorize ? { authorize: options.authorize } : { clientCertificate: 'requested' as const }),
    onError: () => undefined,
  })
  const refused: Error[] = []
  listener.tlsServer.on('tlsClientError', (err: Error) => refused.push(err))
  return {
    target: `127.0.0.1:${listener.port}`,
    refused,
    close: async () => {
      await listener.close({ graceMs: 0 })
      server.forceShutdown()
    },
  }
}

/** What a Health/Check answered. */
export interface HealthOutcome {
  readonly code: number
  readonly details?: string
  readonly status?: string
  /** `x-peer-id`, the caller ID a go-spiffe server saw. */
  readonly peerId?: string
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'grpc.health.v1.Health')

/** One Health/Check over svidkit channel credentials (authorizing the server by `authorize`). */
export function svidkitHealthCheck(
  source: TlsSource,
  target: string,
  authorize: TlsAuthorize,
  service = 'orders',
): Promise<HealthOutcome> {
  const client = new HealthClient(target, svidChannelCredentials({ source, authorize }), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'svidkit.test', // not an IP address as the TLS server name
  })
  return new Promise<HealthOutcome>((resolve) => {
    let peerId: string | undefined
    const call = client.check!(
      { service },
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err: grpc.ServiceError | null, reply: { status?: string } | undefined) => {
        client.close()
        if (err) resolve({ code: err.code, details: err.details })
        else
          resolve({
            code: 0,
            ...(reply?.status ? { status: reply.status } : {}),
            ...(peerId ? { peerId } : {}),
          })
      },
    )
    call.on('metadata', (md: grpc.Metadata) => {
      const v = md.get('x-peer-id')[0]
      if (typeof v === 'string') peerId = v
    })
  })
}
