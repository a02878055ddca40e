import type { CallerVerifierInput, RouteRequirement } from '@svidkit/core/adapter'

/**
 * The gRPC-specific options of {@link svidInterceptor} (everything else is core's `CallerVerifierOptions`).
 *
 * @example
 * ```ts
 * const adapter: SvidInterceptorAdapterOptions = {
 *   methods: {
 *     '/orders.v1.Orders/Get': { scopes: ['orders:read'] },
 *     '/orders.v1.Orders/*': { callers: ['spiffe://example.org/ns/shop/sa/admin'] },
 *     '/grpc.health.v1.Health/*': { public: true },
 *   },
 *   defaultMode: 'required',
 * }
 * ```
 */
export interface SvidInterceptorAdapterOptions {
  /**
   * Per-method settings, by full method (`/package.Service/Method`) or for a whole service
   * (`/package.Service/*`); the exact method wins over its service. Methods match exactly, as grpc-js
   * routes them.
   */
  methods?: Readonly<Record<string, RouteRequirement>>
  /**
   * Authentication for methods that `methods` does not mark `public` or `optional`: `required`
   * (default), `optional` or `none`.
   */
  defaultMode?: 'required' | 'optional' | 'none'
}

/**
 * Options of {@link svidInterceptor}: core's `CallerVerifierOptions` (or a ready `verifier`), plus
 * {@link SvidInterceptorAdapterOptions}. The global policy is core's `authorizer` option; it sees the
 * operation `{ kind: 'grpc', method }` (policy rules name methods with `grpcMethods`).
 *
 * @example
 * ```ts
 * const options: SvidInterceptorOptions = {
 *   bundles: x509Source,
 *   self: x509Source,
 *   jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
 *   authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')),
 *   methods: { '/grpc.health.v1.Health/*': { public: true } },
 * }
 * ```
 */
export type SvidInterceptorOptions = CallerVerifierInput & SvidInterceptorAdapterOptions
