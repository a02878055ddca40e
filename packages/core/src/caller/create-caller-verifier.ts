import type { X509Certificate } from 'node:crypto'
import { IncomingMessage } from 'node:http'
import { type Auditor, type AuditorOptions, createAuditor } from '../audit/create-auditor.js'
import { startTimer } from '../audit/start-timer.js'
import type { JwtBundleSource, X509BundleSource } from '../bundle/bundle-source.js'
import { combineBundleSources } from '../bundle/combine-bundle-sources.js'
import { CredentialsError, OptionsError, X509SvidError } from '../errors/domain-errors.js'
import type { SvidkitError } from '../errors/svidkit-error.js'
import { toSvidkitError } from '../errors/to-svidkit-error.js'
import {
  createForwardedCertExtractor,
  type ForwardedCertExtractor,
  type ForwardedCertOptions,
} from '../forwarded-cert/create-forwarded-cert-extractor.js'
import { createJwtSvidVerifier, type JwtSvidVerifier } from '../jwt-svid/create-jwt-svid-verifier.js'
import type { JwtSvid } from '../jwt-svid/jwt-svid.js'
import {
  createOidcVerifier,
  type OidcIssuerOptions,
  type OidcToken,
  type OidcVerifier,
} from '../oidc/create-oidc-verifier.js'
import { toAccessDeniedError } from '../policy/to-access-denied-error.js'
import type { AuthorizationInput, Authorizer, Decision } from '../policy/types.js'
import { compilePathTemplate } from '../spiffe-id/matcher.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import { getTlsCaller } from '../tls/get-tls-caller.js'
import { verifyX509Svid } from '../x509-svid/verify-x509-svid.js'
import type { X509SvidSource } from '../x509-svid/x509-svid.js'
import { createXfccExtractor, type XfccExtractor, type XfccOptions } from '../xfcc/create-xfcc-extractor.js'
import type { Caller, CallerChannel, CallerUser, OidcCaller, SpiffeCaller } from './caller.js'
import { createRequirement, type RouteRequirement } from './create-requirement.js'
import type { Operation } from './operation.js'
import { peerCertificateChain, type TlsSocketLike } from './peer-certificate-chain.js'
import { readBearerToken } from './read-bearer-token.js'
import { readScopes } from './read-scopes.js'
import { type MaybePromise, settle } from './settle.js'

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
 * The neutral credentials of one request, as an adapter extracts them.
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
  /** The `Authorization` header or gRPC `authorization` metadata value(s). */
  authorization?: string | readonly string[] | undefined
  /** The `x-forwarded-client-cert` header (all lines). */
  xfcc?: string | readonly string[] | undefined
  /** The configured forwarded-certificate header (and its chain header), for `forwardedCert`. */
  forwardedCert?: string | readonly string[] | undefined
  forwardedCertChain?: string | readonly string[] | undefined
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
  /** An extra authorizer for this route (see {@link CallerVerifier.requirement}); applied before the global one. */
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
  /**
   * The (lower-case) header or metadata names this verifier reads credentials from, each `undefined`
   * when its channel is off: what an extractor for another transport (gRPC metadata) must read.
   */
  readonly credentialHeaders: CredentialHeaders
  /**
   * Compiles a per-route requirement (allowed callers, channels, scopes, boundaries, claim conditions)
   * into an authorizer for `verifyCaller(…, { requirement })`, with this verifier's identity templates.
   */
  requirement(spec: RouteRequirement): Authorizer
  /**
   * Checks an already verified caller against one more authorizer (a route requirement), with audit;
   * throws the 403-family error on a deny. For per-route checks that run after `verifyCaller`.
   */
  authorizeCaller(
    caller: Caller | undefined,
    operation: Operation,
    authorizer: Authorizer,
  ): MaybePromise<Decision>
  /**
   * Extracts the credentials of a Node HTTP request (`http`, `https`, `http2` compat; Fastify's
   * `request.raw`, Express's `req`): the socket, peer address, `authorization`, every
   * `x-forwarded-client-cert` line and the configured forwarded-certificate headers, plus the
   * operation (method and path without the query).
   */
  credentialsFromRequest(
    request: NodeHttpRequestLike,
    operation?: { path?: string; route?: string },
  ): CallerCredentials
}

/**
 * Where a verifier reads credentials from: lower-case header (or gRPC metadata) names, each
 * `undefined` when its channel is not accepted.
 *
 * @example
 * ```ts
 * const headers: CredentialHeaders = verifier.credentialHeaders
 * headers.authorization // 'authorization' with the jwt or oidc channel, else undefined
 * headers.forwardedCert // e.g. 'x-ssl-client-cert' with `forwardedCert: { header: 'X-SSL-Client-Cert' }`
 * ```
 */
export interface CredentialHeaders {
  readonly authorization: 'authorization' | undefined
  readonly xfcc: 'x-forwarded-client-cert' | undefined
  readonly forwardedCert: string | undefined
  readonly forwardedCertChain: string | undefined
}

/**
 * The parts of a Node `IncomingMessage` (or HTTP/2 compat request) svidkit reads.
 *
 * @example
 * ```ts
 * const request: NodeHttpRequestLike = { method: 'get', url: '/orders/42?x=1', headers: { authorization: `Bearer ${token}` } }
 * verifier.credentialsFromRequest(request).operation // { kind: 'http', method: 'GET', path: '/orders/42', route: undefined }
 * ```
 */
export interface NodeHttpRequestLike {
  readonly method?: string | undefined
  readonly url?: string | undefined
  readonly originalUrl?: string | undefined
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly headersDistinct?: Readonly<Record<string, string[] | undefined>>
  readonly socket?: (TlsSocketLike & { readonly remoteAddress?: string | undefined }) | null | undefined
}

interface Identity {
  readonly channel: 'mtls' | 'xfcc' | 'jwt'
  readonly spiffeId: SpiffeId
  readonly certificate?: X509Certificate | undefined
  readonly expiresAt?: Date | undefined
  readonly jwt?: JwtSvid
}

const DEFAULT_ORDER: readonly CallerChannel[] = ['xfcc', 'mtls', 'jwt', 'oidc']
const NO_CAPTURES: Readonly<Record<string, string>> = Object.freeze({})
const NO_SCOPES: readonly string[] = Object.freeze([])

function bad(reason: string): never {
  throw new OptionsError('ERR_OPTIONS_INVALID', `createCallerVerifier: ${reason}`)
}

/**
 * Builds the one framework-neutral caller pipeline every adapter calls. It verifies a caller from any
 * configured channel — the mTLS peer certificate (X.509-SVID), an XFCC or other proxy certificate
 * header from a trusted proxy, a JWT-SVID bearer token, or a token from a configured OIDC issuer —
 * against the bundle sources, applies route requirements and the global authorizer, and emits one
 * audit event per decision.
 *
 * @example
 * ```ts
 * import { createCallerVerifier } from '@svidkit/core/caller'
 * const verifier = createCallerVerifier({
 *   bundles: x509Source,
 *   self: x509Source,
 *   xfcc: { trustedPeers: { addresses: ['127.0.0.1'] } },
 *   jwt: { audience: 'spiffe://example.org/orders' },
 *   identityTemplates: ['/ns/{namespace}/sa/{serviceAccount}'],
 *   authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')),
 * })
 * const { caller } = await verifier.verifyCaller({
 *   operation: { kind: 'http', method: 'GET', path: '/orders' },
 *   socket: req.socket,
 *   peerAddress: req.socket.remoteAddress,
 *   authorization: req.headers.authorization,
 *   xfcc: req.headersDistinct['x-forwarded-client-cert'],
 * })
 * ```
 */
export function createCallerVerifier(options: CallerVerifierOptions): CallerVerifier {
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  const given = options.bundles
  const bundles = (Array.isArray(given) ? combineBundleSources(...given) : given) as X509BundleSource &
    Partial<JwtBundleSource>
  if (!bundles || typeof bundles.getX509BundleForTrustDomain !== 'function') {
    bad('"bundles" must be a bundle source (a BundleSet, X509Source, BundleSource…) or a list of them')
  }
  if (options.jwt && typeof bundles.getJwtBundleForTrustDomain !== 'function') {
    bad(
      'the jwt channel needs JWT bundles: pass a BundleSource, a BundleSet, or combineBundleSources(x509Source, bundleSource)',
    )
  }

  // self
  let staticSelf: SpiffeId | undefined
  let selfSource: X509SvidSource | undefined
  if (typeof options.self === 'string') staticSelf = SpiffeId.parse(options.self)
  else if (options.self instanceof SpiffeId) staticSelf = options.self
  else if (options.self !== undefined) {
    if (typeof options.self.getX509Svid !== 'function')
      bad('"self" must be a SPIFFE ID or an X.509-SVID source')
    selfSource = options.self
  }
  const self = (): SpiffeId | undefined => {
    if (staticSelf) return staticSelf
    try {
      return selfSource?.getX509Svid().id
    } catch {
      return undefined
    }
  }

  // channels
  const mtlsOn = options.mtls !== false
  const mtlsSkew = typeof options.mtls === 'object' ? (options.mtls.clockSkewSeconds ?? 0) : 0
  const xfcc: XfccExtractor | undefined = options.xfcc
    ? createXfccExtractor({ ...options.xfcc, bundles })
    : undefined
  let forwarded: { extractor: ForwardedCertExtractor } | undefined
  if (options.forwardedCert) {
    const { header, chainHeader: _c, ...rest } = options.forwardedCert
    if (typeof header !== 'string' || header === '') bad('forwardedCert.header must name the header')
    forwarded = { extractor: createForwardedCertExtractor({ ...rest, bundles }) }
  }
  const jwt: JwtSvidVerifier | undefined = options.jwt
    ? createJwtSvidVerifier({
        bundles: bundles as JwtBundleSource, // checked above
        audience: options.jwt.audience,
        ...(options.jwt.clockSkewSeconds === undefined
          ? {}
          : { clockSkewSeconds: options.jwt.clockSkewSeconds }),
        ...(options.jwt.maxTokenBytes === undefined ? {} : { maxTokenBytes: options.jwt.maxTokenBytes }),
        ...(options.jwt.cache === undefined ? {} : { cache: options.jwt.cache }),
      })
    : undefined
  const oidc: OidcVerifier | undefined = options.oidc ? createOidcVerifier(options.oidc.issuers) : undefined
  const oidcAsUser = options.oidc ? options.oidc.asUser === true : false
  const configured = new Set<CallerChannel>()
  if (mtlsOn) configured.add('mtls')
  if (xfcc || forwarded) configured.add('xfcc')
  if (jwt) configured.add('jwt')
  if (oidc) configured.add('oidc')
  const channels = options.channels ?? DEFAULT_ORDER.filter((c) => configured.has(c))
  if (!Array.isArray(channels) || channels.length === 0) bad('at least one channel must be accepted')
  for (const c of channels) {
    if (!configured.has(c)) bad(`channel "${c}" is listed but not configured`)
  }
  if (new Set(channels).size !== channels.length) bad('a channel is listed twice')
  const accepted = new Set(channels)
  const requireSame = options.requireSameWorkload !== false
  const tokenChannels = accepted.has('jwt') || accepted.has('oidc')
  const forwardedHeader = options.forwardedCert ? options.forwardedCert.header.toLowerCase() : undefined
  const forwardedChainHeader = options.forwardedCert
    ? options.forwardedCert.chainHeader?.toLowerCase()
    : undefined

  // captures
  const templates = (options.identityTemplates ?? []).map((t) => ({
    template: t,
    parts: compilePathTemplate(t),
  }))
  // Channels hand back the same SpiffeId object for a repeated caller (parsed IDs are memoized), so
  // its frozen captures are remembered per ID object instead of being matched and built per request.
  const capturesMemo = new WeakMap<SpiffeId, Readonly<Record<string, string>>>()
  const capturesOf = (id: SpiffeId): Readonly<Record<string, string>> => {
    if (templates.length === 0) return NO_CAPTURES
    let captures = capturesMemo.get(id)
    if (captures === undefined) {
      captures = matchCaptures(id)
      capturesMemo.set(id, captures)
    }
    return captures
  }
  const matchCaptures = (id: SpiffeId): Readonly<Record<string, string>> => {
    const segs = id.segments
    outer: for (const { parts } of templates) {
      const rest = parts[parts.length - 1]?.kind === 'rest'
      const fixed = rest ? parts.length - 1 : parts.length
      if (rest ? segs.length < fixed : segs.length !== fixed) continue
      const out: Record<string, string> = {}
      for (let i = 0; i < fixed; i++) {
        const p = parts[i]!
        if (p.kind === 'literal' && p.value !== segs[i]) continue outer
        if (p.kind === 'capture') out[p.name] = segs[i]!
      }
      const last = parts[parts.length - 1]
      if (rest && last?.kind === 'rest' && last.name) out[last.name] = segs.slice(fixed).join('/')
      return Object.freeze(out)
    }
    return NO_CAPTURES
  }

  // audit
  const auditor: Auditor | undefined =
    options.audit === false
      ? undefined
      : options.audit && 'record' in options.audit && typeof options.audit.record === 'function'
        ? (options.audit as Auditor)
        : createAuditor((options.audit as AuditorOptions | undefined) ?? {})
  const authorizer = options.authorizer
  if (authorizer !== undefined && typeof authorizer?.authorize !== 'function')
    bad('"authorizer" must have an authorize(input) method')

  // mTLS, once per connection
  const socketCache = new WeakMap<
    object,
    { identity: Identity | undefined; error: SvidkitError | undefined; until: number }
  >()
  // Identities are stable per connection, so the caller built from a certificate alone (no token)
  // is built once per connection too.
  const tlsIdentities = new WeakMap<SpiffeCaller, Identity>()
  const certificateCallers = new WeakMap<Identity, SpiffeCaller>()
  const mtlsIdentity = (c: CallerCredentials): Identity | undefined => {
    if (!mtlsOn) return undefined
    const socket = c.socket
    if (socket && typeof socket === 'object') {
      const verified = getTlsCaller(socket)
      const now = Date.now()
      if (verified) {
        // Verified at the handshake; a connection that outlives the certificate is refused.
        if (verified.expiresAt !== undefined && now > verified.expiresAt.getTime() + mtlsSkew * 1000) {
          throw new X509SvidError('ERR_X509_SVID_EXPIRED', 'peer certificate has expired since the handshake')
        }
        let identity = tlsIdentities.get(verified)
        if (identity === undefined) {
          identity = {
            channel: 'mtls',
            spiffeId: verified.spiffeId,
            certificate: verified.certificate,
            expiresAt: verified.expiresAt,
          }
          tlsIdentities.set(verified, identity)
        }
        return identity
      }
      const hit = socketCache.get(socket)
      if (hit && now < hit.until) {
        if (hit.error) throw hit.error
        return hit.identity
      }
      let entry: { identity: Identity | undefined; error: SvidkitError | undefined; until: number }
      try {
        const chain = peerCertificateChain(socket)
        if (chain.length === 0)
          entry = { identity: undefined, error: undefined, until: Number.POSITIVE_INFINITY }
        else {
          const r = verifyX509Svid(chain, bundles, { clockSkewSeconds: mtlsSkew })
          entry = {
            identity: { channel: 'mtls', spiffeId: r.id, certificate: r.chain[0], expiresAt: r.expiresAt },
            error: undefined,
            until: r.expiresAt.getTime() + mtlsSkew * 1000,
          }
        }
      } catch (err) {
        // A failure is remembered briefly: the handshake will not change, but the bundles might.
        entry = { identity: undefined, error: toSvidkitError(err), until: now + 1000 }
      }
      socketCache.set(socket, entry)
      if (entry.error) throw entry.error
      return entry.identity
    }
    if (c.peerCertificates && c.peerCertificates.length > 0) {
      const r = verifyX509Svid(c.peerCertificates, bundles, { clockSkewSeconds: mtlsSkew })
      return { channel: 'mtls', spiffeId: r.id, certificate: r.chain[0], expiresAt: r.expiresAt }
    }
    return undefined
  }

  const audit = (input: AuthorizationInput, decision: Decision, ms: number): void => {
    auditor?.record(input, decision, ms)
  }

  const authorize = (
    input: AuthorizationInput,
    requirement: Authorizer | undefined,
    elapsed: () => number,
  ): MaybePromise<Decision | undefined> => {
    // Nothing to run: no decision, no audit event (what the chain below returns), without building it.
    if (requirement === undefined && authorizer === undefined) return undefined
    const run =
      (a: Authorizer | undefined, next: () => MaybePromise<Decision | undefined>) =>
      (): MaybePromise<Decision | undefined> => {
        if (!a) return next()
        return settle(a.authorize(input), (d: Decision) => {
          if (d.decision !== 'allow') {
            audit(input, d, elapsed())
            throw toAccessDeniedError(d)
          }
          return settle(next(), (later) => later ?? d)
        })
      }
    const last = (): MaybePromise<Decision | undefined> => undefined
    const chain = run(requirement, run(authorizer, last))
    return settle(chain(), (d) => {
      if (d) audit(input, d, elapsed())
      return d
    })
  }

  const identityTemplates = templates.map((t) => t.template)
  const credentialHeaders: CredentialHeaders = Object.freeze({
    authorization: tokenChannels ? 'authorization' : undefined,
    xfcc: xfcc ? 'x-forwarded-client-cert' : undefined,
    forwardedCert: forwardedHeader,
    forwardedCertChain: forwardedChainHeader,
  })
  return Object.freeze({
    channels: Object.freeze([...channels]),
    credentialHeaders,
    self,
    requirement: (spec: RouteRequirement): Authorizer => createRequirement(spec, { identityTemplates }),
    authorizeCaller(
      caller: Caller | undefined,
      operation: Operation,
      extra: Authorizer,
    ): MaybePromise<Decision> {
      const elapsed = startTimer()
      if (caller === undefined) {
        const err = new CredentialsError(
          'ERR_CREDENTIALS_MISSING',
          `no credentials: expected ${channels.map(describeChannel).join(' or ')}`,
        )
        auditor?.recordFailure({ operation, self: self(), code: err.code, reason: err.reason }, elapsed())
        throw err
      }
      const input: AuthorizationInput = { caller, self: self(), operation }
      return settle(extra.authorize(input), (d: Decision) => {
        audit(input, d, elapsed())
        if (d.decision !== 'allow') throw toAccessDeniedError(d)
        return d
      })
    },
    credentialsFromRequest(
      request: NodeHttpRequestLike,
      op: { path?: string; route?: string } = {},
    ): CallerCredentials {
      // A Node request: its header lines read straight from `rawHeaders`, which is what Node fills
      // `headers` and `headersDistinct` from, without building either object (≈ 1 µs per request:
      // Node builds them lazily, on first access).
      const raw = request instanceof IncomingMessage ? request.rawHeaders : undefined
      const header = (name: string): string | readonly string[] | undefined =>
        raw !== undefined
          ? headerLines(raw, name)
          : (request.headersDistinct?.[name] ?? request.headers[name])
      const socket = request.socket ?? undefined
      return {
        operation: httpOperation(request, op),
        socket,
        peerAddress: socket?.remoteAddress,
        authorization: tokenChannels ? header('authorization') : undefined,
        xfcc: xfcc ? header('x-forwarded-client-cert') : undefined,
        forwardedCert: forwardedHeader ? header(forwardedHeader) : undefined,
        forwardedCertChain: forwardedChainHeader ? header(forwardedChainHeader) : undefined,
      }
    },
    verifyCaller(
      credentials: CallerCredentials,
      callOptions: VerifyCallerOptions = {},
    ): MaybePromise<VerifiedCall> {
      const elapsed = startTimer()
      const operation = credentials.operation
      const me = self()
      const fail = (err: unknown): never => {
        const e = toSvidkitError(err)
        if (!(e.code === 'ERR_ACCESS_DENIED' || e.code === 'ERR_SCOPE_MISSING')) {
          auditor?.recordFailure({ operation, self: me, code: e.code, reason: e.reason }, elapsed())
        }
        throw e
      }
      try {
        // 1. Verify every present credential of an accepted channel; any failure fails the request.
        const identities: Identity[] = []
        const mtls = accepted.has('mtls') ? mtlsIdentity(credentials) : undefined
        let proxied: Identity | undefined
        if (accepted.has('xfcc')) {
          if (xfcc && credentials.xfcc !== undefined) {
            const r = xfcc.extract({
              header: credentials.xfcc,
              peerAddress: credentials.peerAddress,
              peerSpiffeId: mtls?.spiffeId,
            })
            if (r)
              proxied = {
                channel: 'xfcc',
                spiffeId: r.caller,
                certificate: r.certificate,
                expiresAt: r.expiresAt,
              }
          }
          if (forwarded && credentials.forwardedCert !== undefined) {
            const r = forwarded.extractor.extract({
              header: credentials.forwardedCert,
              chainHeader: credentials.forwardedCertChain,
              peerAddress: credentials.peerAddress,
              peerSpiffeId: mtls?.spiffeId,
            })
            // Both proxy headers present: they must agree. An XFCC header that a client sent through a
            // proxy that only writes the forwarded-certificate header (and does not strip XFCC) could
            // otherwise name anyone whose certificate the client has seen.
            if (r && proxied && !proxied.spiffeId.equals(r.caller)) {
              throw new CredentialsError(
                'ERR_CREDENTIALS_CALLER_MISMATCH',
                `the XFCC caller "${proxied.spiffeId}" is not the forwarded-certificate caller "${r.caller}"`,
              )
            }
            if (r && !proxied)
              proxied = {
                channel: 'xfcc',
                spiffeId: r.caller,
                certificate: r.certificate,
                expiresAt: r.expiresAt,
              }
          }
        }
        const token =
          accepted.has('jwt') || accepted.has('oidc') ? readBearerToken(credentials.authorization) : undefined
        let oidcToken: Promise<OidcToken> | undefined
        let jwtSvid: JwtSvid | undefined
        if (token !== undefined) {
          const iss = oidc ? peekIssuer(token) : undefined
          if (oidc && iss !== undefined && oidc.hasIssuer(iss)) {
            if (accepted.has('oidc')) oidcToken = oidc.verify(token)
          } else if (jwt && accepted.has('jwt')) {
            jwtSvid = jwt.verify(token)
          }
        }
        for (const c of channels) {
          if (c === 'xfcc' && proxied) identities.push(proxied)
          if (c === 'mtls' && mtls) identities.push(mtls)
          if (c === 'jwt' && jwtSvid)
            identities.push({
              channel: 'jwt',
              spiffeId: jwtSvid.id,
              expiresAt: jwtSvid.expiresAt,
              jwt: jwtSvid,
            })
        }
        // When a trusted proxy vouches for the caller, the mTLS peer is the proxy, not the caller.
        const certIdentity = identities.find((i) => i.channel !== 'jwt' && !(i.channel === 'mtls' && proxied))
        if (requireSame && certIdentity && jwtSvid && !certIdentity.spiffeId.equals(jwtSvid.id)) {
          throw new CredentialsError(
            'ERR_CREDENTIALS_CALLER_MISMATCH',
            `JWT-SVID subject "${jwtSvid.id}" is not the ${certIdentity.channel} caller "${certIdentity.spiffeId}"`,
          )
        }
        const primary = identities[0]
        const build = (user: OidcToken | undefined): VerifiedCall | MaybePromise<VerifiedCall> => {
          let caller: Caller
          const certificateOnly = primary !== undefined && primary.channel === 'mtls' && !jwtSvid && !user
          const known = certificateOnly ? certificateCallers.get(primary) : undefined
          if (known) caller = known
          else if (primary) {
            const tokenSvid = primary.jwt ?? (jwtSvid?.id.equals(primary.spiffeId) ? jwtSvid : undefined)
            const claims = tokenSvid?.claims
            caller = Object.freeze({
              channel: primary.channel,
              spiffeId: primary.spiffeId,
              trustDomain: primary.spiffeId.trustDomain,
              captures: capturesOf(primary.spiffeId),
              scopes: claims ? readScopes(claims) : NO_SCOPES,
              claims,
              expiresAt: minDate(primary.expiresAt, tokenSvid?.expiresAt),
              certificate: primary.certificate,
              ...(user ? { user: userOf(user) } : {}),
            } satisfies SpiffeCaller)
            if (certificateOnly) certificateCallers.set(primary, caller)
          } else if (user) {
            caller = Object.freeze({
              channel: 'oidc',
              principal: user.principal,
              captures: NO_CAPTURES,
              scopes: user.scopes,
              claims: user.claims,
              expiresAt: user.expiresAt,
              certificate: undefined,
            } satisfies OidcCaller)
          } else {
            if (callOptions.optional) return { caller: undefined, decision: undefined }
            throw new CredentialsError(
              'ERR_CREDENTIALS_MISSING',
              `no credentials: expected ${channels.map(describeChannel).join(' or ')}`,
            )
          }
          const input: AuthorizationInput = { caller, self: me, operation }
          return settle(authorize(input, callOptions.requirement, elapsed), (decision) => ({
            caller,
            decision,
          }))
        }
        if (oidcToken) {
          return oidcToken
            .then((t) => {
              // An OIDC token next to a SPIFFE identity is the user's only with `asUser`; otherwise it
              // would be a second caller identity, which is refused as ambiguous.
              if (primary && !oidcAsUser) {
                throw new CredentialsError(
                  'ERR_CREDENTIALS_CALLER_MISMATCH',
                  `an OIDC token came with a ${primary.channel} caller; enable oidc.asUser to accept it as the user`,
                )
              }
              return build(t)
            })
            .catch(fail)
        }
        const r = build(undefined)
        return r instanceof Promise ? r.catch(fail) : r
      } catch (err) {
        return fail(err)
      }
    },
  })
}

/**
 * The operation of a Node HTTP request: upper-case method and the path without the query string
 * (`originalUrl` first, for Express routers), plus the route template when the framework knows it.
 *
 * @example
 * ```ts
 * httpOperation(req, { route: '/orders/:id' }) // { kind: 'http', method: 'GET', path: '/orders/42', route: '/orders/:id' }
 * ```
 */
export function httpOperation(
  request: Pick<NodeHttpRequestLike, 'method' | 'url' | 'originalUrl'>,
  op: { path?: string; route?: string } = {},
): Operation {
  const url = request.originalUrl ?? request.url ?? '/'
  const q = url.indexOf('?')
  return {
    kind: 'http',
    method: (request.method ?? 'GET').toUpperCase(),
    path: op.path ?? (q === -1 ? url : url.slice(0, q)),
    route: op.route,
  }
}

/**
 * The lines of header `name` (lower case) in a Node request's `rawHeaders`, in order, as
 * `request.headersDistinct[name]` holds them (Node builds that object from `rawHeaders` the same way:
 * every name lower-cased, every line kept); `undefined` when there is none.
 */
function headerLines(raw: readonly string[], name: string): string[] | undefined {
  let lines: string[] | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const field = raw[i]!
    if (field.length === name.length && (field === name || field.toLowerCase() === name)) {
      if (lines === undefined) lines = [raw[i + 1]!]
      else lines.push(raw[i + 1]!)
    }
  }
  return lines
}

function userOf(t: OidcToken): CallerUser {
  return Object.freeze({ principal: t.principal, scopes: t.scopes, claims: t.claims })
}

function minDate(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a) return b
  if (!b) return a
  return a.getTime() <= b.getTime() ? a : b
}

function describeChannel(c: CallerChannel): string {
  switch (c) {
    case 'mtls':
      return 'an mTLS client certificate'
    case 'xfcc':
      return 'a certificate forwarded by a trusted proxy'
    case 'jwt':
      return 'a JWT-SVID bearer token'
    case 'oidc':
      return 'a bearer token from a trusted OIDC issuer'
  }
}

/** The `iss` claim of a compact JWT, read without verification, only to route it; `undefined` if unreadable. */
function peekIssuer(token: string): string | undefined {
  const a = token.indexOf('.')
  const b = a === -1 ? -1 : token.indexOf('.', a + 1)
  if (a <= 0 || b <= a) return undefined
  try {
    const payload = JSON.parse(Buffer.from(token.slice(a + 1, b), 'base64url').toString('utf8')) as unknown
    const iss =
      typeof payload === 'object' && payload !== null ? (payload as { iss?: unknown }).iss : undefined
    return typeof iss === 'string' ? iss : undefined
  } catch {
    return undefined
  }
}
