/**
 * mTLS servers and clients backed by a live SVID source: go-spiffe's `spiffetls/tlsconfig` for Node
 * (`node:tls`, `node:https`, `node:http2`, undici `fetch`). Node-only. (JWT-SVIDs on outgoing
 * requests: `@svidkit/core/http-client`.)
 *
 * Both sides present the source's current X.509-SVID, verify the peer's chain as an X.509-SVID
 * against the bundle of the **peer's own trust domain** (so one federated trust domain's CA can never
 * vouch for another's IDs), authorize its SPIFFE ID (a policy function authorizer such as
 * `authorizeMemberOf`, a SPIFFE ID `Matcher`, or a function; see {@link TlsAuthorize}), require TLS 1.2 at
 * least (1.3 preferred), never resume TLS sessions, and pick up rotated SVIDs and bundles on the next
 * connection without dropping existing ones.
 *
 * Node has no hook to put a custom verifier inside the handshake, so:
 * - **Servers** (`createMtlsServerConfig`) request the client certificate with OpenSSL's verdict
 *   ignored (`rejectUnauthorized: false`, no merged CA pool deciding anything) and gate the server's
 *   `secureConnection` event: a connection reaches `http`, `http2` or your listener only after
 *   `verifyX509Svid` and the authorizer accepted it, synchronously; a refused socket is destroyed before
 *   any byte of a request is parsed. The verified `SpiffeCaller` is stored once per connection and read
 *   with `getTlsCaller(req)` (a `WeakMap` lookup, no certificate parsing per request). The certificate
 *   is swapped with `setSecureContext` from a `connection` listener that runs before `tls`'s own, and on
 *   the source's `update` event.
 * - **Clients** (`createMtlsClientConfig`, `createSpiffeHttpsAgent`, `createSpiffeDispatcher`) give
 *   OpenSSL every current bundle authority as `ca` and keep `rejectUnauthorized: true`, then run the
 *   strict per-trust-domain verification and the authorizer in `checkServerIdentity`, which Node calls
 *   before `secureConnect` and before flushing any queued request bytes; an error there destroys the
 *   socket, so nothing is sent to an unverified server. Options are recomputed from the source per
 *   connection; contexts are cached by SVID and bundle object identity.

 *
 * Caches: the verified caller of a connection lives as long as the connection (a `WeakMap` keyed by
 * the socket); peer certificates are mapped to one canonical object per certificate for the last
 * **512** distinct certificates (by DER, oldest dropped first), so a returning peer is not parsed
 * again; PEM forms of an SVID are kept per SVID object. *
 * @example
 * ```ts
 * import https from 'node:https'
 * import { fetch } from 'undici'
 * import { authorizeId, authorizeMemberOf } from '@svidkit/core/policy'
 * import { createMtlsServerConfig, createSpiffeDispatcher, getTlsCaller } from '@svidkit/core/tls'
 *
 * const mtls = createMtlsServerConfig({ source, authorize: authorizeMemberOf('example.org') })
 * mtls.attach(https.createServer(mtls.serverOptions, (req, res) => res.end(String(getTlsCaller(req)?.spiffeId))))
 *
 * const dispatcher = createSpiffeDispatcher({ source, authorize: authorizeId('spiffe://example.org/api') })
 * await fetch('https://api.internal:8443/', { dispatcher })
 * ```
 * @module
 */
export type { MtlsClientConfig, MtlsClientConfigOptions } from './create-mtls-client-config.js'
export { createMtlsClientConfig } from './create-mtls-client-config.js'
export type { MtlsServerConfig, MtlsServerConfigOptions } from './create-mtls-server-config.js'
export { createMtlsServerConfig } from './create-mtls-server-config.js'
export type { SpiffeDispatcherOptions } from './create-spiffe-dispatcher.js'
export { createSpiffeDispatcher } from './create-spiffe-dispatcher.js'
export type { SpiffeHttpsAgentOptions } from './create-spiffe-https-agent.js'
export { createSpiffeHttpsAgent } from './create-spiffe-https-agent.js'
export type { TlsCallerTarget } from './get-tls-caller.js'
export { getTlsCaller } from './get-tls-caller.js'
export type { PeerVerificationOptions, TlsMinVersion } from './tls-options.js'
export type { TlsAuthorize, TlsAuthorizer, TlsPeer } from './tls-peer.js'
export type { TlsSource, X509BundleList } from './tls-source.js'
