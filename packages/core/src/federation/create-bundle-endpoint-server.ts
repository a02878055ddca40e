import { createServer, type Server } from 'node:https'
import { isIPv6, type Socket } from 'node:net'
import type { SecureContextOptions } from 'node:tls'
import { optionsFailure } from '../internal/options.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import { marshalX509Svid } from '../x509-svid/marshal-x509-svid.js'
import type { X509Svid, X509SvidSource } from '../x509-svid/x509-svid.js'
import { type BundleEndpointSource, createBundleEndpointHandler } from './create-bundle-endpoint-handler.js'

/**
 * Options for {@link createBundleEndpointServer}: `svidSource` (https_spiffe) or `key` + `cert` (https_web).
 *
 * @example
 * ```ts
 * const options: BundleEndpointServerOptions = { trustDomain: 'example.org', source, svidSource: source, port: 8443 }
 * ```
 */
export interface BundleEndpointServerOptions {
  /** The trust domain whose bundle is served. */
  trustDomain: TrustDomain | string
  /** Where the bundle is read from, on every request. */
  source: BundleEndpointSource
  /**
   * `https_spiffe`: the server presents this source's current X.509-SVID; a rotated SVID is used from
   * the next connection on, and a connection is refused while the source has no valid SVID.
   */
  svidSource?: X509SvidSource | undefined
  /** `https_web`: the private key (PEM) of a Web PKI certificate. */
  key?: string | Buffer | undefined
  /** `https_web`: the certificate chain (PEM), leaf first. */
  cert?: string | Buffer | undefined
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string | undefined
  /** Port to listen on. Default 0 (any free port; read it from `port` / `url`). */
  port?: number | undefined
}

/**
 * A running bundle endpoint.
 *
 * @example
 * ```ts
 * const endpoint: BundleEndpointServer = await createBundleEndpointServer(options)
 * console.log(endpoint.url.href)
 * await endpoint.close()
 * ```
 */
export interface BundleEndpointServer {
  /** The underlying `node:https` server. */
  readonly server: Server
  /** The bound port. */
  readonly port: number
  /** `https://<host>:<port>/`, the URL federating peers configure. */
  readonly url: URL
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Starts an HTTPS SPIFFE bundle endpoint for one trust domain (the handler of
 * {@link createBundleEndpointHandler} on a `node:https` server). Use `svidSource` for the
 * `https_spiffe` profile (the server authenticates with its X.509-SVID, following rotations without a
 * restart) or `key` + `cert` for `https_web`. Clients are never asked for a certificate.
 *
 * @example
 * ```ts
 * import { createBundleEndpointServer } from '@svidkit/core/federation'
 *
 * await using endpoint = await createBundleEndpointServer({
 *   trustDomain: 'example.org',
 *   source: x509Source,     // serves example.org's bundle
 *   svidSource: x509Source, // presents spiffe://example.org/spire/server (or any SVID it holds)
 *   port: 8443,
 * })
 * console.log(endpoint.url.href) // https://127.0.0.1:8443/
 * ```
 */
export async function createBundleEndpointServer(
  options: BundleEndpointServerOptions,
): Promise<BundleEndpointServer> {
  const bad = optionsFailure('bundle endpoint server')
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  const handler = createBundleEndpointHandler({ trustDomain: options.trustDomain, source: options.source })
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 0
  if (typeof host !== 'string' || host.length === 0) bad('"host" must be a non-empty string')
  if (!Number.isInteger(port) || port < 0 || port > 65_535) bad('"port" must be an integer in 0..65535')
  const svidSource = options.svidSource
  const web = options.key !== undefined || options.cert !== undefined
  if (svidSource && web) bad('give either "svidSource" (https_spiffe) or "key" and "cert" (https_web)')
  if (!svidSource && (options.key === undefined || options.cert === undefined)) {
    bad('give "svidSource" (https_spiffe) or both "key" and "cert" (https_web)')
  }
  if (svidSource && typeof svidSource.getX509Svid !== 'function')
    bad('"svidSource" must be an X509SvidSource')

  let current: X509Svid | undefined
  let initial: SecureContextOptions
  if (svidSource) {
    current = svidSource.getX509Svid()
    initial = contextOf(current)
  } else {
    initial = { key: options.key!, cert: options.cert! }
  }
  const server = createServer({ ...initial, minVersion: 'TLSv1.2', requestCert: false }, handler)

  // Runs before the TLS server wraps the new TCP connection, so a rotated SVID is installed in time
  // for this very handshake (SNICallback would miss clients that send no SNI, e.g. by IP address).
  const onConnection = (socket: Socket): void => {
    if (!svidSource) return
    let svid: X509Svid
    try {
      svid = svidSource.getX509Svid()
    } catch {
      socket.destroy() // no valid SVID (expired, closed): never serve a stale identity
      return
    }
    if (svid !== current) {
      current = svid
      server.setSecureContext({ ...contextOf(svid), minVersion: 'TLSv1.2' })
    }
  }
  if (svidSource) server.prependListener('connection', onConnection)

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolveListen()
    })
  })
  const address = server.address()
  const bound = typeof address === 'object' && address ? address.port : port
  const url = new URL(`https://${isIPv6(host) ? `[${host}]` : host}:${bound}/`)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolveClose) => {
      server.off('connection', onConnection)
      server.close(() => resolveClose())
      server.closeAllConnections()
    })
    return closing
  }
  return Object.freeze({ server, port: bound, url, close, [Symbol.asyncDispose]: close })
}

function contextOf(svid: X509Svid): SecureContextOptions {
  const pem = marshalX509Svid(svid)
  return { key: pem.privateKey, cert: pem.certificates }
}
