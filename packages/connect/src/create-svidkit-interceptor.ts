import type { Interceptor } from '@connectrpc/connect'
import {
  type CompiledRoute,
  callerVerifierFrom,
  compileMethods,
  credentialsFromNodeRequest,
  routeModeOf,
} from '@svidkit/core/adapter'
import type { CallerVerifier, VerifiedCall } from '@svidkit/core/caller'
import { OptionsError } from '@svidkit/core/errors'
import { authenticatedKey, callerKey } from './caller-key.js'
import type { SvidkitInterceptorOptions } from './options.js'
import { requestKey } from './svidkit-context-values.js'
import { toConnectError } from './to-connect-error.js'

/**
 * A Connect `Interceptor` from {@link createSvidkitInterceptor}, with the compiled `verifier` (to
 * share it with other adapters or servers).
 *
 * @example
 * ```ts
 * const svidkit: SvidkitInterceptor = createSvidkitInterceptor({ bundles: source })
 * connectNodeAdapter({ routes, interceptors: [svidkit], contextValues: svidkitContextValues })
 * svidkit.verifier.channels // ['mtls']
 * ```
 */
export interface SvidkitInterceptor extends Interceptor {
  /** The compiled caller pipeline. */
  readonly verifier: CallerVerifier
}

function bad(reason: string): never {
  throw new OptionsError('ERR_OPTIONS_INVALID', `@svidkit/connect: ${reason}`)
}

interface Target {
  readonly method: string
  readonly route: CompiledRoute
}

/**
 * The svidkit interceptor for Connect servers (`connectNodeAdapter`, `createConnectRouter`): on
 * every call, whatever its protocol (Connect, gRPC, gRPC-web) and kind (unary or streaming), before
 * the handler runs or reads a request message, it:
 * 1. extracts the call's credentials from the Node request that {@link svidkitContextValues} kept
 *    (core's `credentialsFromNodeRequest`: the TLS connection and its peer certificate, verified once
 *    per connection (HTTP/2 included), the peer address,
 *    `authorization` (JWT-SVID or OIDC), and `x-forwarded-client-cert` / forwarded-certificate
 *    headers from a trusted proxy such as Envoy, as configured), with the operation
 *    `{ kind: 'grpc', method: '/package.Service/Method' }`;
 * 2. runs core's `verifyCaller` with the method's requirement (`methods`, by full method or
 *    `/package.Service/*`) and the global `authorizer`, and audits;
 * 3. sets the caller in the call's context values ({@link callerKey}, {@link callerOf}) and calls the
 *    next interceptor; or throws a `ConnectError` from core's status table ({@link toConnectError}:
 *    16 `Unauthenticated`, 7 `PermissionDenied`, 14 `Unavailable`, 13 `Internal`, the svidkit code in
 *    the `svidkit-error-code` metadata), and the handler never runs.
 *
 * It fails closed: an unexpected error is 13, and a call whose Node request was not kept (no
 * `contextValues: svidkitContextValues`) is refused with 13 `ERR_OPTIONS_INVALID` unless its method is
 * public. Options are validated now. List it first in `interceptors`, so the interceptors after it
 * never see a refused call.
 *
 * @example
 * ```ts
 * import http2 from 'node:http2'
 * import { connectNodeAdapter } from '@connectrpc/connect-node'
 * import { callerOf, createSvidkitInterceptor, svidkitContextValues } from '@svidkit/connect'
 * import { createMtlsServerConfig } from '@svidkit/core/tls'
 *
 * const svidkit = createSvidkitInterceptor({
 *   bundles: source,
 *   self: source,
 *   jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
 *   methods: {
 *     '/orders.v1.Orders/DeleteOrder': { callers: ['spiffe://example.org/ns/ops/sa/admin'] },
 *     '/grpc.health.v1.Health/*': { public: true },
 *   },
 * })
 * const handler = connectNodeAdapter({
 *   routes: (router) => router.service(Orders, { getOrder: (req, ctx) => ({ id: req.id, by: String(callerOf(ctx).spiffeId) }) }),
 *   interceptors: [svidkit],
 *   contextValues: svidkitContextValues,
 * })
 * const mtls = createMtlsServerConfig({ source, clientCertificate: 'requested' })
 * mtls.attach(http2.createSecureServer({ ...mtls.serverOptions, allowHTTP1: true }, handler)).listen(8443)
 * ```
 */
export function createSvidkitInterceptor(options: SvidkitInterceptorOptions): SvidkitInterceptor {
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  const defaultMode = routeModeOf(options.defaultMode, '@svidkit/connect')
  const { methods, defaultMode: _d, ...verifierInput } = options
  const verifier = callerVerifierFrom(verifierInput, {}, '@svidkit/connect')
  // Compiled once, now: a bad method name or requirement throws here, not on the first call.
  const { routeOf } = compileMethods(methods, verifier, { defaultMode, what: '@svidkit/connect' })
  // Resolved once per method descriptor (the router's own objects, the same on every call).
  const targets = new WeakMap<object, Target>()
  const targetOf = (service: { readonly typeName: string }, desc: { readonly name: string }): Target => {
    let target = targets.get(desc)
    if (target === undefined) {
      const method = `/${service.typeName}/${desc.name}`
      target = { method, route: routeOf(method) }
      targets.set(desc, target)
    }
    return target
  }

  const interceptor: Interceptor = (next) => async (req) => {
    const values = req.contextValues
    // Nothing set before this interceptor counts as a caller.
    values.set(callerKey, undefined)
    values.set(authenticatedKey, false)
    const { method, route } = targetOf(req.service, req.method)
    if (route.mode !== 'none') {
      let result: VerifiedCall
      try {
        const request = values.get(requestKey)
        if (request === undefined) {
          bad(
            'the Node request of this call is unknown: pass contextValues: svidkitContextValues to connectNodeAdapter',
          )
        }
        const credentials = credentialsFromNodeRequest(verifier, request)
        credentials.operation = { kind: 'grpc', method }
        result = await verifier.verifyCaller(credentials, route.verify)
      } catch (err) {
        throw toConnectError(err)
      }
      if (result.caller !== undefined) values.set(callerKey, result.caller)
    }
    values.set(authenticatedKey, true)
    return next(req)
  }
  return Object.assign(interceptor, { verifier }) as SvidkitInterceptor
}
