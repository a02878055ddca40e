import {
  type Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js'
import {
  attempt,
  callerVerifierFrom,
  compileMethods,
  credentialsFromGrpcCall,
  routeModeOf,
} from '@svidkit/core/adapter'
import type { CallerVerifier } from '@svidkit/core/caller'
import { OptionsError, toGrpcStatus } from '@svidkit/core/errors'
import { attachCaller } from './caller-of.js'
import type { SvidInterceptorOptions } from './options.js'
import { tlsSocketOf } from './tls-socket-of.js'

/**
 * A grpc-js `ServerInterceptor` from {@link svidInterceptor}, with the compiled `verifier` (to share it).
 *
 * @example
 * ```ts
 * const auth: SvidInterceptor = svidInterceptor({ bundles: source })
 * const server = new Server({ interceptors: [auth] })
 * auth.verifier.channels // ['mtls']
 * ```
 */
export interface SvidInterceptor extends ServerInterceptor {
  /** The compiled caller pipeline. */
  readonly verifier: CallerVerifier
}

function bad(reason: string): never {
  throw new OptionsError('ERR_OPTIONS_INVALID', `@svidkit/grpc: ${reason}`)
}

/** The peer address grpc-js ≥ 1.14 reports for the call's connection, or `undefined`. */
function connectionAddressOf(call: ServerInterceptingCallInterface): string | undefined {
  return typeof call.getConnectionInfo === 'function' ? call.getConnectionInfo()?.remoteAddress : undefined
}

/**
 * The svidkit grpc-js server interceptor. In `onReceiveMetadata`, before any request message reaches
 * the handler (unary, server-streaming, client-streaming and bidi calls alike: grpc-js holds messages
 * and half-close until the decision), it:
 * 1. extracts the call's credentials with core's `credentialsFromGrpcCall`: the connection's TLS socket when
 *    it came through {@link serveSvid} (whose caller or chain core verified once per connection), the
 *    peer address, `authorization` metadata (JWT-SVID or OIDC), and `x-forwarded-client-cert` /
 *    forwarded-certificate metadata from a trusted proxy such as Envoy, as configured;
 * 2. runs core's `verifyCaller` with the method's requirement (`methods`, by full method or
 *    `/package.Service/*`) and the global `authorizer`, which sees `{ kind: 'grpc', method }`, and audits;
 * 3. attaches the caller for {@link callerOf} and lets the call through; or answers with `sendStatus`
 *    from core's status table (16 UNAUTHENTICATED, 7 PERMISSION_DENIED, 13 INTERNAL, 14 UNAVAILABLE) and
 *    `details` `<code>: <domain>: <reason>` (never a token), without calling the handler.
 *
 * Any unexpected failure is answered the same way (13 INTERNAL): it never lets a call through.
 * Options are validated when the interceptor is created. List it first in `interceptors`, so the
 * interceptors after it never see a refused call.
 *
 * @example
 * ```ts
 * import { Server } from '@grpc/grpc-js'
 * import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
 * import { callerOf, serveSvid, svidInterceptor } from '@svidkit/grpc'
 *
 * const server = new Server({
 *   interceptors: [
 *     svidInterceptor({
 *       bundles: source,
 *       self: source,
 *       jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
 *       authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')),
 *       methods: {
 *         '/orders.v1.Orders/Delete': { callers: ['spiffe://example.org/ns/ops/sa/admin'] },
 *         '/grpc.health.v1.Health/*': { public: true },
 *       },
 *     }),
 *   ],
 * })
 * server.addService(OrdersService, {
 *   get: (call, callback) => callback(null, { by: callerOf(call)?.spiffeId?.toString() }),
 * })
 * await serveSvid(server, { address: '0.0.0.0:50051', source, clientCertificate: 'requested' })
 * ```
 */
export function svidInterceptor(options: SvidInterceptorOptions): SvidInterceptor {
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  const defaultMode = routeModeOf(options.defaultMode, '@svidkit/grpc')
  const { methods, defaultMode: _d, ...verifierInput } = options
  const verifier = callerVerifierFrom(verifierInput, {}, '@svidkit/grpc')
  // Compiled once, now: a bad method name or requirement throws here, not on the first call.
  const { routeOf } = compileMethods(methods, verifier, { defaultMode, what: '@svidkit/grpc' })

  const refuse = (call: ServerInterceptingCallInterface, err: unknown): void => {
    try {
      const { code, details } = toGrpcStatus(err)
      call.sendStatus({ code, details })
    } catch {
      // Nothing more can be sent; the call was not let through.
    }
  }

  const interceptor = (
    descriptor: { readonly path: string },
    call: ServerInterceptingCallInterface,
  ): ServerInterceptingCall => {
    const method = descriptor.path
    const route = routeOf(method)
    // Public: nothing to intercept. grpc-js chains interceptors through the call interface, so the
    // call itself is a valid result (its typings ask for the class).
    if (route.mode === 'none') return call as ServerInterceptingCall
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata: Metadata, proceed: (metadata: Metadata) => void) {
            attempt(
              () => {
                const socket = tlsSocketOf(call)
                const credentials = credentialsFromGrpcCall(verifier, {
                  method,
                  metadata,
                  socket,
                  peerAddress: socket ? undefined : connectionAddressOf(call),
                  peer: call.getPeer(),
                })
                return verifier.verifyCaller(credentials, route.verify)
              },
              (result) => {
                if (result.caller) attachCaller(metadata, result.caller)
                proceed(metadata)
              },
              (err) => refuse(call, err),
            )
          },
        })
      },
    })
  }
  return Object.assign(interceptor, { verifier }) as SvidInterceptor
}
