/**
 * Envoy's `x-forwarded-client-cert` (XFCC): a quote-aware parser and formatter, caller selection, and
 * an extractor that authenticates a request's caller from the header of a **trusted** proxy.
 *
 * ## What the header says, and who may say it
 *
 * Each proxy that terminates a client's mTLS connection can add one element describing that client:
 * `By` (the proxy's own URI SAN), `Hash` (SHA-256 of the client certificate), `URI` (the client's URI
 * SAN, i.e. its SPIFFE ID), optionally `Subject`, `DNS`, `Cert` and `Chain`. Elements are appended at the
 * end, so the **last** element is the one written by the proxy directly in front of the application;
 * earlier elements are only as trustworthy as every hop that forwarded them. Anyone who can reach the
 * application directly can send any header, so the header is honoured only when the request's direct
 * peer is a trusted proxy: by address (default loopback only: `127.0.0.0/8`, `::1`, and IPv4-mapped
 * `::ffff:127.x`) and/or by the proxy's own verified SPIFFE ID.
 *
 * ## Envoy `forward_client_cert_details` in front of the application
 *
 * | Mode | Safe in front of the app? | Why |
 * |---|---|---|
 * | `SANITIZE_SET` | **yes** | Envoy replaces any incoming header with one element for its own mTLS client (and removes it for non-mTLS clients). Istio's default for gateways. |
 * | `APPEND_FORWARD` | **yes, reading the last element** (the default here) | Envoy appends its element at the end; earlier elements come from the client or earlier hops and may be forged. Istio's default for sidecars: any mesh workload can prepend elements. Use `trustedHops` > 1 only with `trustedProxies`. |
 * | `SANITIZE` | no header | Envoy's default: the header is removed; there is nothing to read. |
 * | `FORWARD_ONLY` | **never at an edge** | An mTLS client's own header is passed through unchanged: the client chooses its identity. |
 * | `ALWAYS_FORWARD_ONLY` | **never at an edge** | Any client's header is passed through, even without mTLS. |
 *
 * (Istio's mesh-config enum is off by one from Envoy's: `SANITIZE_SET` is 4 there, 3 in Envoy.)
 *
 * ## Choices made by the parser
 *
 * - Grammar as Envoy's own `XFCC_VALUE` parser: split on `,` and `;` outside quotes; a `"` toggles
 *   quoting only after an even number of backslashes; only `\"` and `\\` are unescaped.
 * - Keys are lowercased; unknown keys (`Issuer`, legacy `SAN`) are kept; repeated keys give arrays; a
 *   second `Cert`, `Chain` or `Hash` in one element is an injection (`ERR_XFCC_DUPLICATE_KEY`).
 * - Empty header → no element (treated as absent). Empty element, empty pair, pair without `=`,
 *   unmatched quote, text after a closing quote, a bare quote inside an unquoted value, or a control
 *   character → `ERR_XFCC_MALFORMED`. Longer than 16 KiB (configurable) → `ERR_XFCC_TOO_LARGE`.
 * - Several header lines (`req.headersDistinct`) are read in order as one list; Node's `", "` join
 *   parses the same way.
 * - Never authorize on `Subject`: it is opaque (RFC 2253 from Envoy, unescaped inside its quotes).

 *
 * ## Caches of an extractor
 *
 * - Selections (caller and element) of the last **32** distinct header strings, oldest dropped first.
 * - SPIFFE IDs parsed from `URI`: up to **64**, cleared when full.
 * - Verified `Cert`/`Chain`: at most `cacheSize` (default **256**) chains, least recently used dropped
 *   first, each kept only until its earliest `notAfter` and while its trust domain's bundle object is
 *   unchanged. A `Chain` holds at most 16 certificates (`MAX_CHAIN_CERTIFICATES` of `x509-svid`). *
 * @example
 * ```ts
 * import { createXfccExtractor } from '@svidkit/core/xfcc'
 * const xfcc = createXfccExtractor({ by: 'spiffe://example.org/api', bundles })
 * const result = xfcc.extract({
 *   header: req.headersDistinct['x-forwarded-client-cert'],
 *   peerAddress: req.socket.remoteAddress,
 * })
 * result?.caller.toString() // 'spiffe://example.org/web'
 * ```
 * @module
 */
export type { TrustedPeerOptions } from '../internal/trusted-peer.js'
export type {
  XfccCaller,
  XfccExtractInput,
  XfccExtractor,
  XfccOptions,
  XfccResult,
} from './create-xfcc-extractor.js'
export { createXfccExtractor } from './create-xfcc-extractor.js'
export { formatXfcc } from './format-xfcc.js'
export type { ParseXfccOptions } from './parse-xfcc.js'
export { DEFAULT_XFCC_MAX_LENGTH, parseXfcc } from './parse-xfcc.js'
export type { SelectXfccCallerOptions, XfccSelection } from './select-xfcc-caller.js'
export { selectXfccCaller } from './select-xfcc-caller.js'
export type { XfccElement } from './xfcc-element.js'
