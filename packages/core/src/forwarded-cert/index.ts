/**
 * Client certificates forwarded by proxies other than Envoy: one decoder with a preset per format
 * (nginx `$ssl_client_escaped_cert`, AWS ALB `X-Amzn-Mtls-Clientcert` / `-Leaf`, Traefik v2 and v3
 * `X-Forwarded-Tls-Client-Cert`, HAProxy `%[ssl_c_der,base64]`, RFC 9440 `Client-Cert` /
 * `Client-Cert-Chain`), and an extractor that verifies the forwarded chain as an X.509-SVID, only when
 * the request's direct peer is a trusted proxy (the same trusted-peer model as `@svidkit/core/xfcc`:
 * addresses/CIDRs, default loopback only, and/or the proxy's own SPIFFE ID).
 *
 * Rules that hold for every format:
 * - The proxy must **set** the header on every request (overwriting any client-sent one, including when
 *   the client presented no certificate); otherwise a client can choose its own certificate. Cloudflare
 *   and ALB passthrough forward certificates they did not verify: svidkit always verifies against its
 *   own bundles, never trusts the proxy's verdict (`ssl-client-verify`, `cf.tls_client_auth.cert_verified`).
 * - Percent-decoding is `decodeURIComponent`: `+` stays `+` (AWS ALB leaves `+=/` literal).
 * - Malformed input is `ERR_FORWARDED_CERT_MALFORMED`; a header from an untrusted peer is
 *   `ERR_FORWARDED_CERT_UNTRUSTED_PEER` (or ignored); a chain that does not verify throws the
 *   `X509SvidError` of the failed check.
 * - For Envoy, use `@svidkit/core/xfcc` (`Cert`/`Chain` in the XFCC header).

 * - Limits: the header and chain header together at most `maxLength` (default 16 KiB) characters and
 *   16 certificates (`MAX_CHAIN_CERTIFICATES` of `x509-svid`), refused before any is parsed.
 * - Cache: verified chains per extractor, at most `cacheSize` (default **256**), least recently used
 *   dropped first, each until its earliest `notAfter` and while its bundle object is unchanged. *
 * @example
 * ```ts
 * import { createForwardedCertExtractor } from '@svidkit/core/forwarded-cert'
 * const fwd = createForwardedCertExtractor({ format: 'nginx', bundles })
 * const result = fwd.extract({ header: req.headers['ssl-client-cert'], peerAddress: req.socket.remoteAddress })
 * result?.caller.toString() // 'spiffe://example.org/web'
 * ```
 * @module
 */
export type { TrustedPeerOptions } from '../internal/trusted-peer.js'
export type {
  ForwardedCertCaller,
  ForwardedCertExtractInput,
  ForwardedCertExtractor,
  ForwardedCertOptions,
  ForwardedCertResult,
} from './create-forwarded-cert-extractor.js'
export { createForwardedCertExtractor } from './create-forwarded-cert-extractor.js'
export type { DecodeForwardedCertOptions } from './decode-forwarded-cert.js'
export { DEFAULT_FORWARDED_CERT_MAX_LENGTH, decodeForwardedCert } from './decode-forwarded-cert.js'
export type { ForwardedCertFormat, ForwardedCertPreset } from './forwarded-cert-presets.js'
export { forwardedCertPresets } from './forwarded-cert-presets.js'
