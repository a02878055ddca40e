import { request as httpRequest, type IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { type DetailedPeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls'
import type { X509BundleSource } from '../bundle/bundle-source.js'
import { SpiffeBundle } from '../bundle/spiffe-bundle.js'
import { FederationError } from '../errors/domain-errors.js'
import { SvidkitError } from '../errors/svidkit-error.js'
import { verifyX509Svid } from '../x509-svid/verify-x509-svid.js'
import {
  type BundleEndpointOptions,
  checkEndpointUrl,
  endpointLabel,
  type ResolvedEndpoint,
  resolveEndpoint,
} from './resolve-endpoint.js'

/**
 * Options for {@link fetchBundle}: one relationship plus the trust material for `https_spiffe`.
 *
 * @example
 * ```ts
 * const options: FetchBundleOptions = { trustDomain: 'partner.example', url, profile: 'https_web' }
 * ```
 */
export interface FetchBundleOptions extends BundleEndpointOptions {
  /**
   * `https_spiffe` only, required: a source holding the X.509 bundle of the endpoint SPIFFE ID's trust
   * domain (an `X509Bundle`, a `SpiffeBundle`, a `BundleSet`, a live source). For a self-serving
   * endpoint (the endpoint ID is in the trust domain being fetched) pass the configured bundle the
   * first time and the latest fetched bundle afterwards; `FederatedBundleSource` does that for you.
   */
  bundleSource?: X509BundleSource | undefined
  /** Aborts the fetch. */
  signal?: AbortSignal | undefined
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/**
 * Fetches a trust domain's bundle from a SPIFFE bundle endpoint (SPIFFE Federation §5) and parses
 * it as that trust domain's `SpiffeBundle`. The trust domain, URL and profile are always explicit.
 *
 * - `https_web`: ordinary TLS server authentication with the hostname check of RFC 6125, against
 *   `ca` or Node's Web PKI roots.
 * - `https_spiffe`: the server's certificate chain must be a valid X509-SVID (svidkit's
 *   `verifyX509Svid`, against the bundle of the endpoint ID's trust domain from `bundleSource`) for
 *   **exactly** `endpointSpiffeId`. The TLS session is opened and the peer verified before a single
 *   byte of the request is written, so a wrong server learns nothing.
 *
 * Redirects are followed (at most `maxRedirects`) only to valid endpoint URLs, with the same checks,
 * and never remembered. The body is bounded by `maxResponseBytes`; `Content-Type` is not required.
 *
 * @throws FederationError `ERR_FEDERATION_ENDPOINT_INVALID` for a bad relationship (URL scheme,
 *   userinfo, missing profile or endpoint ID); `ERR_FEDERATION_FETCH_FAILED` for anything that fails
 *   on the wire (connection, TLS, server identity, HTTP status, size, timeout, bundle parsing).
 * @example
 * ```ts
 * import { fetchBundle } from '@svidkit/core/federation'
 *
 * const bundle = await fetchBundle({
 *   trustDomain: 'partner.example',
 *   url: 'https://bundles.partner.example:8443',
 *   profile: 'https_spiffe',
 *   endpointSpiffeId: 'spiffe://partner.example/spire/server',
 *   bundleSource: configuredPartnerBundle, // first fetch of a self-serving endpoint
 *   timeoutMs: 5000,
 * })
 * bundle.refreshHintSeconds // when to poll again
 * ```
 */
export async function fetchBundle(options: FetchBundleOptions): Promise<SpiffeBundle> {
  const endpoint = resolveEndpoint(options)
  if (endpoint.profile === 'https_spiffe') {
    const source = options.bundleSource
    if (!source || typeof source.getX509BundleForTrustDomain !== 'function') {
      throw new FederationError(
        'ERR_FEDERATION_ENDPOINT_INVALID',
        'https_spiffe needs "bundleSource" with the bundle of the endpoint ID\'s trust domain',
      )
    }
  } else if (options.bundleSource !== undefined) {
    throw new FederationError(
      'ERR_FEDERATION_ENDPOINT_INVALID',
      '"bundleSource" applies to https_spiffe only',
    )
  }
  return fetchFromEndpoint(endpoint, options.bundleSource, options.signal)
}

/** @internal Fetches from an already validated endpoint. */
export async function fetchFromEndpoint(
  endpoint: ResolvedEndpoint,
  bundleSource: X509BundleSource | undefined,
  signal: AbortSignal | undefined,
): Promise<SpiffeBundle> {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort(fail(endpoint.label, `timed out after ${endpoint.timeoutMs} ms`))
  }, endpoint.timeoutMs)
  const onAbort = (): void => controller.abort(signal?.reason)
  if (signal?.aborted) onAbort()
  else signal?.addEventListener('abort', onAbort, { once: true })
  try {
    let url = endpoint.url
    for (let hop = 0; ; hop++) {
      const result = await getOnce(endpoint, url, bundleSource, controller.signal)
      if (result.kind === 'body') {
        try {
          return SpiffeBundle.parse(endpoint.trustDomain, result.body)
        } catch (cause) {
          throw fail(
            endpointLabel(url),
            `response is not a valid SPIFFE bundle: ${cause instanceof SvidkitError ? cause.reason : 'parse error'}`,
            cause,
          )
        }
      }
      if (hop >= endpoint.maxRedirects)
        throw fail(endpoint.label, `more than ${endpoint.maxRedirects} redirects`)
      let next: URL
      try {
        next = checkEndpointUrl(new URL(result.location, url).href)
      } catch (cause) {
        throw fail(endpointLabel(url), 'redirected to an invalid endpoint URL', cause)
      }
      url = next // followed for this fetch only, never stored
    }
  } catch (err) {
    if (controller.signal.aborted) {
      const reason: unknown = controller.signal.reason
      throw reason instanceof FederationError || signal?.aborted
        ? reason
        : fail(endpoint.label, 'fetch aborted', reason)
    }
    throw err instanceof FederationError ? err : fail(endpoint.label, 'fetch failed', err)
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

function fail(label: string, reason: string, cause?: unknown): FederationError {
  return new FederationError('ERR_FEDERATION_FETCH_FAILED', `${label}: ${reason}`, {
    details: { endpoint: label },
    ...(cause === undefined ? {} : { cause }),
  })
}

type GetResult = { kind: 'body'; body: Buffer } | { kind: 'redirect'; location: string }

/** One GET: open TLS, authenticate the server, then (and only then) send the request. */
async function getOnce(
  endpoint: ResolvedEndpoint,
  url: URL,
  bundleSource: X509BundleSource | undefined,
  signal: AbortSignal,
): Promise<GetResult> {
  signal.throwIfAborted()
  const label = endpointLabel(url)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = url.port === '' ? 443 : Number(url.port)
  const socket = await openVerified(endpoint, label, host, port, bundleSource, signal)
  try {
    return await get(endpoint, label, url, host, port, socket, signal)
  } finally {
    socket.destroy()
  }
}

function openVerified(
  endpoint: ResolvedEndpoint,
  label: string,
  host: string,
  port: number,
  bundleSource: X509BundleSource | undefined,
  signal: AbortSignal,
): Promise<TLSSocket> {
  const spiffe = endpoint.profile === 'https_spiffe'
  return new Promise<TLSSocket>((resolveSocket, reject) => {
    const socket = tlsConnect({
      host,
      port,
      ...(isIP(host) ? {} : { servername: host }),
      ALPNProtocols: ['http/1.1'],
      minVersion: 'TLSv1.2',
      // https_spiffe: OpenSSL's Web PKI checks are off; the chain is verified below as an X509-SVID,
      // before anything is written. https_web: OpenSSL verifies the chain and Node's
      // checkServerIdentity the host name (RFC 6125).
      ...(spiffe
        ? { rejectUnauthorized: false, checkServerIdentity: () => undefined }
        : { rejectUnauthorized: true, ...(endpoint.ca ? { ca: endpoint.ca } : {}) }),
    })
    const cleanup = (): void => {
      signal.removeEventListener('abort', onAbort)
      socket.off('error', onError)
      socket.off('secureConnect', onSecure)
    }
    const onAbort = (): void => {
      cleanup()
      socket.destroy()
      reject(signal.reason)
    }
    const onError = (err: Error): void => {
      cleanup()
      socket.destroy()
      reject(fail(label, `TLS connection failed: ${tlsReason(err)}`, err))
    }
    const onSecure = (): void => {
      cleanup()
      if (spiffe) {
        try {
          checkSpiffeServer(endpoint, label, socket, bundleSource!)
        } catch (err) {
          socket.destroy()
          reject(err)
          return
        }
      }
      // Keep an error listener so a late socket error never becomes an uncaught exception.
      socket.on('error', () => undefined)
      resolveSocket(socket)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('error', onError)
    socket.once('secureConnect', onSecure)
  })
}

function tlsReason(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code
  return code ? `${code}` : err.message.slice(0, 200)
}

function checkSpiffeServer(
  endpoint: ResolvedEndpoint,
  label: string,
  socket: TLSSocket,
  bundleSource: X509BundleSource,
): void {
  const chain = peerChain(socket)
  if (chain.length === 0) throw fail(label, 'server presented no certificate')
  let verified: ReturnType<typeof verifyX509Svid>
  try {
    verified = verifyX509Svid(chain, bundleSource)
  } catch (cause) {
    throw fail(
      label,
      `server certificate is not a valid X509-SVID: ${cause instanceof SvidkitError ? cause.reason : 'verification error'}`,
      cause,
    )
  }
  if (!verified.id.equals(endpoint.endpointId!)) {
    throw fail(label, `server presented "${verified.id}", expected "${endpoint.endpointId}"`)
  }
}

/** The peer chain as sent (leaf first), from Node's detailed peer certificate. */
function peerChain(socket: TLSSocket): Buffer[] {
  const leaf = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined
  const chain: Buffer[] = []
  const seen = new Set<string>()
  let cert: DetailedPeerCertificate | undefined = leaf
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256)
    chain.push(cert.raw)
    const next: DetailedPeerCertificate | undefined = cert.issuerCertificate
    if (!next || next === cert) break
    cert = next
  }
  return chain
}

function get(
  endpoint: ResolvedEndpoint,
  label: string,
  url: URL,
  host: string,
  port: number,
  socket: TLSSocket,
  signal: AbortSignal,
): Promise<GetResult> {
  return new Promise<GetResult>((resolveGet, reject) => {
    let settled = false
    const finish = (err: unknown, result?: GetResult): void => {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onAbort)
      if (err !== undefined) {
        req.destroy()
        reject(err)
      } else resolveGet(result!)
    }
    const onAbort = (): void => finish(signal.reason)
    const req = httpRequest({
      host,
      port,
      method: 'GET',
      path: `${url.pathname}${url.search}`,
      headers: { host: url.host, accept: 'application/json', connection: 'close', 'user-agent': 'svidkit' },
      createConnection: () => socket,
    })
    req.on('error', (err) =>
      finish(err instanceof FederationError ? err : fail(label, 'request failed', err)),
    )
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0
      if (REDIRECTS.has(status)) {
        const location = res.headers.location
        res.resume()
        if (!location) finish(fail(label, `HTTP ${status} redirect without a Location`))
        else finish(undefined, { kind: 'redirect', location })
        return
      }
      if (status !== 200) {
        res.resume()
        finish(fail(label, `endpoint answered HTTP ${status}`))
        return
      }
      const max = endpoint.maxResponseBytes
      const declared = Number(res.headers['content-length'])
      if (Number.isFinite(declared) && declared > max) {
        finish(fail(label, `response is larger than ${max} bytes`))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > max) finish(fail(label, `response is larger than ${max} bytes`))
        else chunks.push(chunk)
      })
      res.on('error', (err) => finish(fail(label, 'response failed', err)))
      res.on('aborted', () => finish(fail(label, 'response was cut short')))
      res.on('end', () => {
        if (!res.complete) finish(fail(label, 'response was cut short'))
        else finish(undefined, { kind: 'body', body: Buffer.concat(chunks) })
      })
    })
    signal.addEventListener('abort', onAbort, { once: true })
    req.end()
  })
}
