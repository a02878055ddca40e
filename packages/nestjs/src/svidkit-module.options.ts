import type { CallerVerifierInput, RouteMode } from '@svidkit/core/adapter'
import type { X509BundleSource } from '@svidkit/core/bundle'
import type { CallerVerifierOptions } from '@svidkit/core/caller'
import type { HttpErrorBody } from '@svidkit/core/errors'
import type { X509SourceOptions } from '@svidkit/core/workload-api'
import type { X509SvidSource } from '@svidkit/core/x509-svid'

/**
 * An X.509 source the module can hold for the application: the service's own SVID and the trust
 * bundles (core's `X509Source` from the Workload API, a `StaticSource`, …). `close()` is called when the
 * application shuts down.
 *
 * @example
 * ```ts
 * const source: SvidkitX509Source = await X509Source.create()
 * ```
 */
export type SvidkitX509Source = X509SvidSource & X509BundleSource & { close?(): Promise<void> | void }

/**
 * How the module gets the application's one X.509 source: `true` to open core's `X509Source` on the
 * SPIFFE Workload API (`SPIFFE_ENDPOINT_SOCKET`), the `X509SourceOptions` to open it with, or a
 * source you made (anything with `getX509Svid()` and `getX509BundleForTrustDomain()`).
 *
 * @example
 * ```ts
 * const fromAgent: SvidkitSourceOption = { address: 'unix:///run/spire/agent.sock', timeoutMs: 10_000 }
 * ```
 */
export type SvidkitSourceOption = true | X509SourceOptions | SvidkitX509Source

/**
 * The Nest-specific options of `SvidkitModule` (everything else is core's `CallerVerifierOptions`).
 *
 * @example
 * ```ts
 * const nest: SvidkitNestOptions = {
 *   source: true,
 *   realm: 'orders',
 *   defaultMode: 'required',
 *   errorBody: (body) => ({ title: body.error, detail: body.message, code: body.code }),
 * }
 * ```
 */
export interface SvidkitNestOptions {
  /**
   * The application's one X.509 source (see {@link SvidkitSourceOption}). It is the verifier's
   * `bundles` and `self` unless those are given, it is injectable as `SVIDKIT_X509_SOURCE` (for the
   * gRPC transport's listener, outgoing mTLS), and the module closes it on application shutdown.
   */
  source?: SvidkitSourceOption
  /** `realm` of the `WWW-Authenticate` challenge on HTTP. Default `svidkit`. */
  realm?: string
  /**
   * Authentication for handlers without `@Public()`, `@OptionalCaller()` or a requirement:
   * `required` (default), `optional` or `none`. Requirements still apply where they are declared.
   */
  defaultMode?: RouteMode
  /**
   * Replaces the JSON body of HTTP refusals (`request` is the platform's request: Express `Request`
   * or `FastifyRequest`). Status and `WWW-Authenticate` always come from core's status table.
   */
  errorBody?: (body: HttpErrorBody, request: unknown) => unknown
}

/**
 * Core's verifier options with `bundles` optional: the module's `source` stands in for it.
 *
 * @example
 * ```ts
 * const verifier: SvidkitVerifierOptions = { jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' } }
 * ```
 */
export type SvidkitVerifierOptions = Omit<CallerVerifierOptions, 'bundles'> &
  Partial<Pick<CallerVerifierOptions, 'bundles'>>

/**
 * Options of `SvidkitModule.forRoot()` (and what `forRootAsync()`'s factory returns): core's
 * `CallerVerifierOptions` (sources, channels, policy `authorizer`, `audit`…) or a ready `verifier`,
 * plus {@link SvidkitNestOptions}.
 *
 * @example
 * ```ts
 * const options: SvidkitModuleOptions = {
 *   source: true, // the Workload API: bundles and self
 *   jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
 *   authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')),
 * }
 * ```
 */
export type SvidkitModuleOptions = (
  | SvidkitVerifierOptions
  | Extract<CallerVerifierInput, { verifier: unknown }>
) &
  SvidkitNestOptions
