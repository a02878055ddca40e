import type { CallerVerifierInput, RouteRequirement } from '@svidkit/core/adapter'

/**
 * The Connect-specific options of {@link createSvidkitInterceptor} (everything else is core's
 * `CallerVerifierOptions`).
 *
 * @example
 * ```ts
 * const adapter: SvidkitInterceptorAdapterOptions = {
 *   methods: {
 *     '/orders.v1.Orders/GetOrder': { scopes: ['orders:read'] },
 *     '/orders.v1.Orders/*': { callers: ['spiffe://example.org/ns/shop/sa/admin'] },
 *     '/grpc.health.v1.Health/*': { public: true },
 *   },
 *   defaultMode: 'required',
 * }
 * ```
 */
export interface SvidkitInterceptorAdapterOptions {
  /**
   * Per-method settings, by full method (`/package.Service/Method`, the service's `typeName` and the
   * method's `name` as in the `.proto` file) or for a whole service (`/package.Service/*`); the exact
   * method wins over its service. The same keys as `@svidkit/grpc`'s `methods`, whatever the protocol
   * of the call (Connect, gRPC, gRPC-web).
   */
  methods?: Readonly<Record<string, RouteRequirement>>
  /**
   * Authentication for methods that `methods` does not mark `public` or `optional`: `required`
   * (default), `optional` or `none`.
   */
  defaultMode?: 'required' | 'optional' | 'none'
}

/**
 * Options of {@link createSvidkitInterceptor}: core's `CallerVerifierOptions` (or a ready
 * `verifier`), plus {@link SvidkitInterceptorAdapterOptions}. The global policy is core's
 * `authorizer` option; it sees the operation `{ kind: 'grpc', method }` for every protocol, so the
 * policy rules of a grpc-js service (`grpcMethods`) apply unchanged.
 *
 * @example
 * ```ts
 * const options: SvidkitInterceptorOptions = {
 *   bundles: x509Source,
 *   self: x509Source,
 *   jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
 *   authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')),
 *   methods: { '/grpc.health.v1.Health/*': { public: true } },
 * }
 * ```
 */
export type SvidkitInterceptorOptions = CallerVerifierInput & SvidkitInterceptorAdapterOptions
