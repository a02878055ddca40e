import type { X509Certificate } from 'node:crypto'
import type { X509BundleSource } from '../bundle/bundle-source.js'
import { ForwardedCertError, OptionsError } from '../errors/domain-errors.js'
import { optionsFailure } from '../internal/options.js'
import { compilePeerTrust, type TrustedPeerOptions } from '../internal/trusted-peer.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import {
  checkFormat,
  checkForwardedMaxLength,
  decodeForwardedCertUnchecked,
} from './decode-forwarded-cert.js'
import {
  type ForwardedCertFormat,
  type ForwardedCertPreset,
  forwardedCertPresets,
} from './forwarded-cert-presets.js'
import { chainCacheKey, checkCacheSize, checkClockSkew, VerifiedChainCache } from './verified-chain-cache.js'

/**
 * Options for {@link createForwardedCertExtractor}.
 *
 * @example
 * ```ts
 * const options: ForwardedCertOptions = {
 *   format: 'haproxy',
 *   bundles,
 *   trustedPeers: { addresses: ['10.0.0.0/8'] },
 * }
 * const fwd = createForwardedCertExtractor(options)
 * ```
 */
export interface ForwardedCertOptions {
  /** The proxy's header format. */
  format: ForwardedCertFormat
  /** The trust bundles the forwarded chain is verified against, as an X.509-SVID. */
  bundles: X509BundleSource
  /**
   * Which direct peers (the proxy) may send the header: addresses/CIDRs (default loopback only) and/or
   * a matcher over the proxy's own verified mTLS SPIFFE ID. Same model as the XFCC extractor.
   */
  trustedPeers?: TrustedPeerOptions
  /**
   * A header from a peer that is not trusted: `'reject'` (default) throws
   * `ERR_FORWARDED_CERT_UNTRUSTED_PEER`; `'ignore'` returns `undefined`, as if there were no header.
   */
  untrustedPeer?: 'ignore' | 'reject'
  /** Tolerance on certificate validity, in seconds. Default 0. */
  clockSkewSeconds?: number
  /** Longest accepted header (and chain header together), in characters. Default 16384. */
  maxLength?: number
  /** How many verified chains to remember (0 disables the cache). Default 256. */
  cacheSize?: number
}

/**
 * What a forwarded-cert extractor needs from a request; framework-neutral.
 *
 * @example
 * ```ts
 * const input: ForwardedCertExtractInput = {
 *   header: req.headers['x-ssl-client-cert'],
 *   chainHeader: req.headers['x-ssl-client-chain'],
 *   peerAddress: req.socket.remoteAddress,
 * }
 * const result = fwd.extract(input)
 * ```
 */
export interface ForwardedCertExtractInput {
  /** The certificate header (`req.headersDistinct[name]` or `req.headers[name]`). */
  header: string | readonly string[] | undefined
  /** The companion chain header, for the formats that have one (RFC 9440, HAProxy). */
  chainHeader?: string | readonly string[] | undefined
  /** The direct peer's address, `req.socket.remoteAddress`. */
  peerAddress: string | undefined
  /** The direct peer's SPIFFE ID, when the proxy connected with a verified X.509-SVID. */
  peerSpiffeId?: SpiffeId | undefined
}

/**
 * A caller whose forwarded certificate verified as an X.509-SVID.
 *
 * @example
 * ```ts
 * const result = fwd.extract({ header: req.headers['ssl-client-cert'], peerAddress: req.socket.remoteAddress })
 * if (result) {
 *   const { caller, expiresAt }: ForwardedCertCaller = result
 *   console.log(`${caller} until ${expiresAt.toISOString()}`)
 * }
 * ```
 */
export interface ForwardedCertCaller {
  /** The caller's SPIFFE ID, from the verified leaf. */
  readonly caller: SpiffeId
  /** The verified leaf certificate. */
  readonly certificate: X509Certificate
  /** The verified path: leaf, intermediates, bundle authority. */
  readonly chain: readonly X509Certificate[]
  /** When the verification stops holding (the earliest `notAfter` on the path). */
  readonly expiresAt: Date
}

/**
 * The result of {@link ForwardedCertExtractor.extract}: `undefined` when there is no header or it was ignored.
 *
 * @example
 * ```ts
 * const result: ForwardedCertResult = fwd.extract({ header: undefined, peerAddress: '127.0.0.1' })
 * result // undefined: no header
 * ```
 */
export type ForwardedCertResult = ForwardedCertCaller | undefined

/**
 * A compiled forwarded-certificate configuration.
 *
 * @example
 * ```ts
 * const fwd: ForwardedCertExtractor = createForwardedCertExtractor({ format: 'nginx', bundles })
 * fwd.preset.header // 'ssl-client-cert'
 * const result = fwd.extract({ header: req.headers[fwd.preset.header], peerAddress: req.socket.remoteAddress })
 * ```
 */
export interface ForwardedCertExtractor {
  /** The preset of the configured format (usual header names). */
  readonly preset: ForwardedCertPreset
  /**
   * Authenticates a request's forwarded certificate header: trusted peer, decode, X.509-SVID
   * verification (cached). Synchronous.
   *
   * @throws ForwardedCertError `ERR_FORWARDED_CERT_UNTRUSTED_PEER` or `ERR_FORWARDED_CERT_MALFORMED`;
   * X509SvidError when the chain does not verify (expired, untrusted, no SPIFFE ID, …).
   */
  extract(input: ForwardedCertExtractInput): ForwardedCertResult
}

function linesKey(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  return Array.isArray(value) ? value.join('\n') : undefined
}

/**
 * Builds an extractor for a proxy's client-certificate header (nginx, AWS ALB, Traefik, HAProxy,
 * RFC 9440), with options validated now (`OptionsError`). Per request it returns `undefined` when the
 * header is absent or empty, checks that the direct peer is a trusted proxy (default loopback only;
 * otherwise `ERR_FORWARDED_CERT_UNTRUSTED_PEER`, or `undefined` with `untrustedPeer: 'ignore'`), decodes
 * the chain ({@link decodeForwardedCert}) and verifies it as an X.509-SVID against `bundles`. Verified
 * chains are cached (bounded, keyed by a SHA-256 of the header text) until they expire or the trust
 * domain's bundle object changes.
 *
 * The proxy must overwrite (never pass through) a client-sent header of that name on every request,
 * including requests without a client certificate.
 *
 * @example
 * ```ts
 * import { createForwardedCertExtractor } from '@svidkit/core/forwarded-cert'
 * const fwd = createForwardedCertExtractor({ format: 'rfc9440', bundles, trustedPeers: { addresses: ['10.0.0.0/8'] } })
 * const result = fwd.extract({
 *   header: req.headers['client-cert'],
 *   chainHeader: req.headers['client-cert-chain'],
 *   peerAddress: req.socket.remoteAddress,
 * })
 * result?.caller.toString() // 'spiffe://example.org/web'
 * ```
 */
export function createForwardedCertExtractor(options: ForwardedCertOptions): ForwardedCertExtractor {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'forwarded-cert options must be an object')
  }
  const bad = optionsFailure('forwarded-cert options')
  const format = checkFormat(options.format, 'forwarded-cert options: format')
  const bundles = options.bundles
  if (
    typeof bundles !== 'object' ||
    bundles === null ||
    typeof bundles.getX509BundleForTrustDomain !== 'function'
  ) {
    bad('bundles must be an X509BundleSource')
  }
  const peers = compilePeerTrust(options.trustedPeers, 'forwarded-cert options: trustedPeers')
  const untrusted = options.untrustedPeer ?? 'reject'
  if (untrusted !== 'ignore' && untrusted !== 'reject') bad('untrustedPeer must be "ignore" or "reject"')
  const maxLength = checkForwardedMaxLength(options.maxLength, 'forwarded-cert options: maxLength')
  const skew = checkClockSkew(options.clockSkewSeconds, 'forwarded-cert options: clockSkewSeconds')
  const cache = new VerifiedChainCache(
    checkCacheSize(options.cacheSize, 'forwarded-cert options: cacheSize'),
    skew,
  )
  const preset = forwardedCertPresets[format]
  const hasChain =
    format === 'haproxy' ||
    format === 'rfc9440' ||
    format === 'nginx' ||
    format === 'alb' ||
    format === 'alb-leaf'

  const extract = (input: ForwardedCertExtractInput): ForwardedCertResult => {
    const header = input.header
    if (header === undefined || header === null || header.length === 0) return undefined
    if (!peers.isTrusted(input.peerAddress, input.peerSpiffeId)) {
      if (untrusted === 'ignore') return undefined
      throw new ForwardedCertError(
        'ERR_FORWARDED_CERT_UNTRUSTED_PEER',
        'certificate header sent by a peer that is not a trusted proxy',
      )
    }
    const chainHeader = hasChain ? input.chainHeader : undefined
    const headerKey = linesKey(header)
    const chainKey = linesKey(chainHeader)
    if ((headerKey?.length ?? 0) + (chainKey?.length ?? 0) > maxLength) {
      throw new ForwardedCertError(
        'ERR_FORWARDED_CERT_MALFORMED',
        `header is longer than ${maxLength} characters`,
      )
    }
    const verified = cache.verify(
      chainCacheKey(headerKey, chainKey),
      () => decodeForwardedCertUnchecked(header, format, chainHeader, maxLength),
      bundles,
    )
    return Object.freeze({
      caller: verified.id,
      certificate: verified.leaf,
      chain: verified.chain,
      expiresAt: verified.expiresAt,
    })
  }
  return Object.freeze({ preset, extract })
}
