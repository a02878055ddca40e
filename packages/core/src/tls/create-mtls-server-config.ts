import { type SecureContextOptions, type TLSSocket, type TlsOptions, Server as TlsServer } from 'node:tls'
import type { SpiffeCaller } from '../caller/caller.js'
import { OptionsError, TlsError } from '../errors/domain-errors.js'
import { SvidkitError } from '../errors/svidkit-error.js'
import type { X509Svid } from '../x509-svid/x509-svid.js'
import { linkCaller, storeCaller } from './internal/caller-store.js'
import { chainFromX509, compilePeerVerifier } from './internal/peer-verifier.js'
import { checkContextOptions, checkMinVersion, NO_TICKET, svidPem } from './internal/tls-settings.js'
import type { PeerVerificationOptions, TlsMinVersion } from './tls-options.js'

/**
 * Options for {@link createMtlsServerConfig}.
 *
 * @example
 * ```ts
 * const options: MtlsServerConfigOptions = {
 *   source,
 *   authorize: authorizeMemberOf('example.org'),
 *   identityTemplate: '/ns/{namespace}/sa/{serviceAccount}',
 *   minVersion: 'TLSv1.3',
 * }
 * ```
 */
export interface MtlsServerConfigOptions extends Omit<PeerVerificationOptions, 'authorize'> {
  /** Who may connect (required unless `clientCertificate` is `'requested'`, where it is unused). */
  authorize?: PeerVerificationOptions['authorize']
  /** Lowest TLS version accepted: `TLSv1.2` (default) or `TLSv1.3`. TLS 1.3 is always preferred. */
  minVersion?: TlsMinVersion
  /**
   * How the client certificate is judged in the handshake:
   * - `required` (default): every client must present an X.509-SVID that verifies and passes
   *   `authorize`; other connections are closed before any listener sees them.
   * - `optional`: as `required` for a client that presents a certificate, but a client without one
   *   is served without an mTLS caller (`getTlsCaller` is `undefined`), so public routes (`/health`)
   *   answer it while routes that need a caller still refuse it with 401.
   * - `requested`: the certificate is asked for but not judged here, and every connection is
   *   delivered; the application verifies the peer per request from the socket (core's
   *   `verifyCaller` does it once per connection), so a bad or missing certificate gets a 401 /
   *   UNAUTHENTICATED with a reason instead of a failed handshake. `getTlsCaller` finds no caller.
   */
  clientCertificate?: 'required' | 'optional' | 'requested'
  /**
   * Extra secure-context options applied on every rotation (`ciphers`, `ecdhCurve`, `sigalgs`,
   * `secureOptions`, …). `key`, `cert`, `ca`, `pfx` and the version bounds come from svidkit.
   */
  secureContextOptions?: SecureContextOptions
  /**
   * Called when the current SVID cannot be installed (the source has none, or it has expired); the
   * server keeps serving its previous certificate. Default: a process warning, once per distinct error.
   */
  onError?: (error: Error) => void
}

/**
 * What {@link createMtlsServerConfig} returns: the server options and the `attach` step.
 *
 * @example
 * ```ts
 * const mtls: MtlsServerConfig = createMtlsServerConfig({ source, authorize })
 * const server = mtls.attach(http2.createSecureServer({ ...mtls.serverOptions, allowHTTP1: true }, handler))
 * ```
 */
export interface MtlsServerConfig {
  /**
   * Options for `tls.createServer`, `https.createServer` or `http2.createSecureServer` (spread your
   * own around them): `requestCert: true`, `rejectUnauthorized: false` (svidkit, not OpenSSL, decides),
   * the TLS floor, and no session tickets. They deliberately hold **no certificate**: `attach()`
   * installs it, so a server you forget to attach fails every handshake instead of accepting peers
   * unverified.
   */
  readonly serverOptions: Readonly<TlsOptions>
  /**
   * Installs the SVID, rotation and per-connection verification on a server created with
   * `serverOptions`, and returns it. Throws `OptionsError` if the server does not request client
   * certificates or lets OpenSSL reject them, and the source's error if it has no SVID yet.
   */
  attach<S extends TlsServer>(server: S): S
}

const attached = new WeakSet<TlsServer>()

/**
 * mTLS for `node:tls`, `node:https` and `node:http2` servers backed by a live SVID source (go-spiffe
 * `tlsconfig.MTLSServerConfig` + `spiffetls.Listen`): the server presents the source's current
 * X.509-SVID, requires a client certificate, verifies each client chain as an X.509-SVID against
 * the bundle of the **client's own trust domain**, authorizes its SPIFFE ID, and exposes the verified
 * `SpiffeCaller` through {@link getTlsCaller}. Rotated SVIDs and bundles apply to new connections
 * without restarting or dropping anything.
 *
 * How it works (Node has no hook for a custom verifier inside the handshake):
 * - **Verification.** OpenSSL is told to request the client certificate but not to judge it
 *   (`rejectUnauthorized: false`): a CA pool merged across trust domains would let one federated
 *   trust domain's CA vouch for another's IDs. Instead `attach()` wraps the server's `emit` so that a
 *   `secureConnection` is only delivered, to the `http`/`http2` layer or any other listener, after
 *   `verifyX509Svid` + the authorizer accepted the peer synchronously. A refused socket is destroyed
 *   before any listener sees it, so no request on it is ever parsed, and the error (a `TlsError` or
 *   `X509SvidError` with its `code`) is emitted as `tlsClientError`. A client without a certificate
 *   is refused with `ERR_TLS_NO_PEER_CERTIFICATE`, unless `clientCertificate: 'optional'` (then it
 *   is served without a caller, for public routes).
 * - **Caller.** The `SpiffeCaller` is built once per connection and stored in a `WeakMap` keyed by the
 *   socket (and by the HTTP/2 session; HTTP/2's socket proxies reach it through a private symbol on the
 *   socket), so handlers never read the peer certificate per request.
 * - **Rotation.** A listener prepended to `connection` (it runs before `tls`'s own, which reads the
 *   default context) calls `server.setSecureContext()` when `getX509Svid()` returns a different SVID
 *   object, and a source `update` event does the same eagerly. Contexts are rebuilt once per SVID, never
 *   per connection; bundles are read per handshake, so they need no rebuild at all. Existing
 *   connections are not interrupted.
 * - **Sessions.** Session tickets are disabled: a resumed session would skip the client's
 *   re-verification of the server and carry a stale client chain.
 *
 * @example
 * ```ts
 * import https from 'node:https'
 * import { matchMemberOf } from '@svidkit/core/spiffe-id'
 * import { createMtlsServerConfig, getTlsCaller } from '@svidkit/core/tls'
 *
 * const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('example.org') })
 * const server = mtls.attach(
 *   https.createServer(mtls.serverOptions, (req, res) => res.end(`hello ${getTlsCaller(req)?.spiffeId}`)),
 * )
 * server.listen(8443)
 * // node:http2: mtls.attach(http2.createSecureServer({ ...mtls.serverOptions, allowHTTP1: true }, handler))
 * // node:tls:   mtls.attach(tls.createServer(mtls.serverOptions, (socket) => getTlsCaller(socket)))
 * ```
 */
export function createMtlsServerConfig(options: MtlsServerConfigOptions): MtlsServerConfig {
  const what = 'createMtlsServerConfig'
  // With 'requested' nothing is judged in the handshake: the authorizer is not needed (nor used).
  const verifyPeer = compilePeerVerifier(
    options?.clientCertificate === 'requested'
      ? { ...options, authorize: options.authorize ?? (() => true) }
      : (options as PeerVerificationOptions), // `authorize` is checked there
    'client',
    what,
  )
  const minVersion = checkMinVersion(options.minVersion, what)
  const contextOptions = checkContextOptions(options.secureContextOptions, what)
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "onError" must be a function`)
  }
  const clientCertificate = options.clientCertificate ?? 'required'
  if (
    clientCertificate !== 'required' &&
    clientCertificate !== 'optional' &&
    clientCertificate !== 'requested'
  ) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `${what}: "clientCertificate" must be "required", "optional" or "requested"`,
    )
  }
  const { source } = options
  const secureOptions = (contextOptions.secureOptions ?? 0) | NO_TICKET
  let lastWarning: string | undefined
  const onError =
    options.onError ??
    ((error: Error) => {
      const key = error instanceof SvidkitError ? error.code : error.message
      if (key === lastWarning) return
      lastWarning = key
      process.emitWarning(`svidkit mTLS server keeps its previous certificate: ${error.message}`, {
        code: 'SVIDKIT_TLS_ROTATION',
      })
    })

  const serverOptions: Readonly<TlsOptions> = Object.freeze({
    ...contextOptions,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion,
    secureOptions,
  })

  const attach = <S extends TlsServer>(server: S): S => {
    if (!(server instanceof TlsServer)) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        `${what}: attach() expects a tls, https or http2 secure server`,
      )
    }
    const state = server as unknown as { requestCert?: boolean; rejectUnauthorized?: boolean }
    if (state.requestCert !== true || state.rejectUnauthorized !== false) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        `${what}: create the server with serverOptions (requestCert: true, rejectUnauthorized: false)`,
      )
    }
    if (attached.has(server))
      throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: server is already attached`)

    let current: X509Svid | undefined
    const install = (svid: X509Svid): void => {
      const { key, cert } = svidPem(svid)
      server.setSecureContext({ ...contextOptions, key, cert, minVersion, secureOptions })
      current = svid
    }
    // The first install throws: a server without an SVID must not start.
    install(source.getX509Svid())
    attached.add(server)

    // An SVID whose context cannot be built is not retried on every connection.
    let broken: X509Svid | undefined
    const refresh = (): void => {
      let svid: X509Svid | undefined
      try {
        svid = source.getX509Svid()
        if (svid !== current && svid !== broken) install(svid)
      } catch (err) {
        if (svid) broken = svid
        onError(err instanceof Error ? err : new Error(String(err)))
      }
    }
    // Before tls's own 'connection' listener, which creates the TLSSocket from the default context.
    server.prependListener('connection', refresh)
    if (typeof source.on === 'function') {
      source.on('update', refresh)
      server.once('close', () => source.off?.('update', refresh))
    }
    if (clientCertificate === 'requested') return server

    // The gate: 'secureConnection' reaches no listener (http, http2, yours) unless the peer verified.
    let pendingCaller: SpiffeCaller | undefined
    const emit = server.emit as (this: S, event: string | symbol, ...args: unknown[]) => boolean
    const gated = function (this: S, event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'secureConnection') return emit.call(this, event, ...args)
      const socket = args[0] as TLSSocket
      let caller: SpiffeCaller
      try {
        const leaf = socket.getPeerX509Certificate()
        if (!leaf) {
          // No certificate at all: a connection without an mTLS caller, when that is allowed.
          if (clientCertificate === 'optional') return emit.call(this, event, ...args)
          throw new TlsError('ERR_TLS_NO_PEER_CERTIFICATE', 'client presented no certificate')
        }
        caller = verifyPeer(chainFromX509(leaf)).caller
      } catch (err) {
        socket.destroy()
        const error = err instanceof Error ? err : new TlsError('ERR_INTERNAL', String(err))
        emit.call(this, 'tlsClientError', error, socket)
        return false
      }
      storeCaller(socket, caller)
      pendingCaller = caller
      try {
        return emit.call(this, event, ...args)
      } finally {
        pendingCaller = undefined
      }
    }
    server.emit = gated as S['emit']
    // HTTP/2 creates its session synchronously inside 'secureConnection': map it to the caller of the
    // connection being delivered (`stream.session`, `req.stream.session`).
    server.on('session', (session: object) => {
      if (!pendingCaller) return
      linkCaller(session, pendingCaller)
    })
    return server
  }

  return Object.freeze({ serverOptions, attach })
}
