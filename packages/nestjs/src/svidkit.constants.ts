/**
 * Injection token of the application's `CallerVerifier` (core's compiled caller pipeline), provided
 * by `SvidkitModule`: inject it to verify callers yourself, or to share it with another adapter.
 *
 * @example
 * ```ts
 * @Injectable()
 * class Audit {
 *   constructor(@Inject(SVIDKIT_VERIFIER) private readonly verifier: CallerVerifier) {}
 * }
 * ```
 */
export const SVIDKIT_VERIFIER: unique symbol = Symbol.for('@svidkit/nestjs.verifier')

/**
 * Injection token of the application's one X.509 source (its SVID and bundles), when `SvidkitModule`
 * was given one (`source`); `null` otherwise. The module closes it when the application shuts down.
 *
 * @example
 * ```ts
 * const source = app.get<X509Source>(SVIDKIT_X509_SOURCE) // e.g. for the gRPC transport's listener
 * ```
 */
export const SVIDKIT_X509_SOURCE: unique symbol = Symbol.for('@svidkit/nestjs.x509-source')
