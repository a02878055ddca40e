// The types of the caller pipeline: its options, the neutral credentials a transport hands it, and
// the verifier it builds. See ./README.md for the pipeline in ten lines.
import type { X509Certificate } from 'node:crypto'
import type { Auditor, AuditorOptions } from '../audit/create-auditor.js'
import type { JwtBundleSource, X509BundleSource } from '../bundle/bundle-source.js'
import type { Caller, CallerChannel } from '../caller/caller.js'
import type { Operation } from '../caller/operation.js'
import type { ForwardedCertOptions } from '../forwarded-cert/create-forwarded-cert-extractor.js'
import type { MaybePromise } from '../internal/settle.js'
import type { OidcIssuerOptions } from '../oidc/create-oidc-verifier.js'
import type { Authorizer, Decision } from '../policy/types.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { TlsSocketLike } from '../tls/peer-certificate-chain.js'
import type { X509SvidSource } from '../x509-svid/x509-svid.js'
import type { XfccOptions } from '../xfcc/create-xfcc-extractor.js'

/**
 * Options for {@link createCallerVerifier}. Validated when the verifier is created.
 *
 * @example
 * ```ts
 * const options: CallerVerifierOptions = {
 *   bundles: [x509Source, bundleSource],
 *   self: x509Source,
 *   jwt: { audience: 'spiffe://example.org/orders', clockSkewSeconds: 30 },
 * }
 * const verifier = createCallerVerifier(options)
 * ```
 */
export interface CallerVerifierOptions {
  /**
   * Trust bundles for X.509-SVIDs and JWT-SVIDs: a `BundleSet`, a Workload API `X509Source` /
   * `BundleSource`, a `FileSource`… Read on every verification, so rotations apply at once.
   */
  bundles: (X509BundleSource & Partial<JwtBundleSource>) | readonly (X509BundleSource | JwtBundleSource)[]
  /**
   * The service's own identity, for `sameAs: self` boundaries and the XFCC `By` check: a SPIFFE ID,
   * or a source whose current X.509-SVID gives it.
   */
  self?: SpiffeId | string | X509SvidSource
  /**
   * Accepted channels, in precedence order: when a request carries several credentials, the first
   * channel listed that has one names the caller. Default: the configured channels in the order
   * `xfcc`, `mtls`, `jwt`, `oidc`. A channel not listed is ignored even if its credential is present
   * (an XFCC header is never trusted unless `xfcc` is configured and listed).
   */
  channels?: readonly CallerChannel[]
  /** The mTLS channel: the TLS peer certificate, verified against the peer's trust domain bundle. Default on. */
  mtls?: boolean | { clockSkewSeconds?: number }
  /** The XFCC channel (Envoy/Istio `x-forwarded-client-cert`). Off unless given. `bundles` comes from above. */
  xfcc?: Omit<XfccOptions, 'bundles'> | false
  /**
   * Another proxy's certificate header (nginx, HAProxy, Traefik, ALB, RFC 9440), reported as channel
   * `xfcc` (a caller vouched for by a trusted proxy). Off unless given. `header` is the header name.
   */
  forwardedCert?: (Omit<ForwardedCertOptions, 'bundles'> & { header: string; chainHeader?: string }) | false
  /** The JWT-SVID channel (`Authorization: Bearer`). Off unless an `audience` is given. */
  jwt?:
    | {
        audience: string | readonly string[]
        clockSkewSeconds?: number
        maxTokenBytes?: number
        cache?: false | { maxEntries?: number }
      }
    | false
  /**
   * Tokens from configured OIDC issuers. A bearer token whose `iss` is one of them is verified here,
   * never as a JWT-SVID. With `asUser`, an OIDC token that comes with a SPIFFE identity (mTLS, XFCC)
   * is attached as `caller.user` instead of naming the caller.
   */
  oidc?: { issuers: readonly OidcIssuerOptions[]; asUser?: boolean } | false
  /**
   * When a request carries both a certificate identity (mTLS or XFCC) and a JWT-SVID, require both to
   * name the same workload. Default `true`.
   */
  requireSameWorkload?: boolean
  /** Templates that give `caller.captures`, e.g. `/ns/{namespace}/sa/{serviceAccount}`; the first match wins. */
  identityTemplates?: readonly string[]
  /** The global authorizer (a policy, Cedar, OPA…), applied to every authenticated request. */
  authorizer?: Authorizer
  /** Audit: an auditor, options for one (`{ logger }`), or `false`. Default: telemetry only. */
  audit?: Auditor | AuditorOptions | false
}

/**
 * The neutral credentials of one request, as an adapter extracts them (from a Node HTTP request,
 * gRPC metadata, …): the same shape whatever the transport.
 *
 * @example
 * ```ts
 * const credentials: CallerCredentials = {
 *   operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' },
 *   peerCertificates: chain,
 *   authorization: `Bearer ${token}`,
 * }
 * const { caller } = await verifier.verifyCaller(credentials)
 * ```
 */
export interface CallerCredentials {
  /** What the request does. */
  operation: Operation
  /** The TLS socket of the connection (its peer certificate is read and verified once per connection). */
  socket?: TlsSocketLike | undefined
  /** Or the peer's certificate chain, leaf first, when the adapter has it without a socket. */
  peerCertificates?: readonly X509Certificate[] | undefined
  /** The direct peer's address (`socket.remoteAddress`), for proxy trust. */
  peerAddress?: string | undefined
  /** The `Authorization` header or gRPC `authorization` metadata value(s); `null` is none. */
  authorization?: string | readonly string[] | null | undefined
  /** The `x-forwarded-client-cert` header (all lines); `null` is none. */
  xfcc?: string | readonly string[] | null | undefined
  /** The configured forwarded-certificate header (and its chain header), for `forwardedCert`; `null` is none. */
  forwardedCert?: string | readonly string[] | null | undefined
  forwardedCertChain?: string | readonly string[] | null | undefined
}

/**
 * Per-call options of {@link CallerVerifier.verifyCaller}.
 *
 * @example
 * ```ts
 * const options: VerifyCallerOptions = { requirement: verifier.requirement({ scopes: ['orders:read'] }), optional: true }
 * const { caller } = await verifier.verifyCaller(verifier.credentialsFromRequest(req), options)
 * ```
 */
export interface VerifyCallerOptions {
  /** An extra authorizer for this route (a compiled route requirement); applied before the global one. */
  requirement?: Authorizer | undefined
  /** Optional authentication: a request with no credentials at all gets `caller: undefined` instead of a 401. */
  optional?: boolean | undefined
}

/**
 * The result of a successful verification.
 *
 * @example
 * ```ts
 * const { caller, decision }: VerifiedCall = await verifier.verifyCaller(credentials, { optional: true })
 * if (caller === undefined) console.log('anonymous request')
 * decision?.rule // the deciding rule, e.g. 'orders-read'
 * ```
 */
export interface VerifiedCall {
  /** The caller; `undefined` only for optional authentication without credentials. */
  readonly caller: Caller | undefined
  /** The deciding authorization, when an authorizer ran. */
  readonly decision: Decision | undefined
}

/**
 * A compiled caller pipeline.
 *
 * @example
 * ```ts
 * const verifier: CallerVerifier = createCallerVerifier({ bundles, jwt: { audience: 'orders' } })
 * verifier.channels // ['mtls', 'jwt']
 * const { caller } = await verifier.verifyCaller(verifier.credentialsFromRequest(req))
 * ```
 */
export interface CallerVerifier {
  /**
   * Authenticates and authorizes one request: extract → verify every present credential of an
   * accepted channel (any failure fails the request) → pick the caller by precedence → check that
   * certificate and JWT-SVID identities agree → captures → route requirement → global authorizer →
   * audit. Returns synchronously unless an OIDC key fetch or an asynchronous authorizer is involved.
   *
   * @throws SvidkitError with a code from the status table (401 family for authentication, 403 for
   * authorization); map it with `toHttpResponse` / `toGrpcStatus`.
   */
  verifyCaller(credentials: CallerCredentials, options?: VerifyCallerOptions): MaybePromise<VerifiedCall>
  /** The service's own SPIFFE ID right now, when known. */
  self(): SpiffeId | undefined
  /** The channels accepted, in precedence order. */
  readonly channels: readonly CallerChannel[]
  /** The identity templates of `options.identityTemplates`, for route requirements compiled against this verifier. */
  readonly identityTemplates: readonly string[]
  /** Which request headers hold credentials for the accepted channels (for credential extractors). */
  readonly headers: CredentialHeaders
  /**
   * Checks an already verified caller against one more authorizer (a route requirement, see
   * `compileRoute` in `@svidkit/core/adapter`), with audit; throws the 403-family error on a deny.
   * For per-route checks that run after `verifyCaller`.
   */
  authorizeCaller(
    caller: Caller | undefined,
    operation: Operation,
    authorizer: Authorizer,
  ): MaybePromise<Decision>
}

/**
 * Which request headers (or gRPC metadata keys) carry credentials for a verifier's accepted
 * channels, lower-case; `undefined` when the verifier does not read it. Extractors read only these.
 *
 * @example
 * ```ts
 * const headers: CredentialHeaders = verifier.headers
 * headers.authorization // 'authorization' when the jwt or oidc channel is accepted
 * ```
 */
export interface CredentialHeaders {
  readonly authorization: 'authorization' | undefined
  readonly xfcc: 'x-forwarded-client-cert' | undefined
  readonly forwardedCert: string | undefined
  readonly forwardedCertChain: string | undefined
}
