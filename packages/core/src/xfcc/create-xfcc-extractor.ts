import type { X509Certificate } from 'node:crypto'
import type { X509BundleSource } from '../bundle/bundle-source.js'
import { ForwardedCertError, OptionsError, XfccError } from '../errors/domain-errors.js'
import { urlEncodedPemToCertificates } from '../forwarded-cert/cert-encodings.js'
import {
  chainCacheKey,
  checkCacheSize,
  checkClockSkew,
  VerifiedChainCache,
} from '../forwarded-cert/verified-chain-cache.js'
import { optionsFailure } from '../internal/options.js'
import { compilePeerTrust, type TrustedPeerOptions } from '../internal/trusted-peer.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import { checkMaxLength, parseXfccUnchecked } from './parse-xfcc.js'
import { compileXfccSelector, type SelectXfccCallerOptions } from './select-xfcc-caller.js'
import type { XfccElement } from './xfcc-element.js'

/**
 * Options for {@link createXfccExtractor}.
 *
 * @example
 * ```ts
 * const options: XfccOptions = {
 *   trustedPeers: { addresses: ['10.0.0.0/8'] },
 *   by: 'spiffe://example.org/api',
 *   certCheck: 'required',
 *   bundles,
 * }
 * ```
 */
export interface XfccOptions extends SelectXfccCallerOptions {
  /**
   * Which direct peers (the proxy) may send the header: addresses/CIDRs (default loopback only) and/or
   * a matcher over the proxy's own verified mTLS SPIFFE ID.
   */
  trustedPeers?: TrustedPeerOptions
  /**
   * What to do with a header sent by a peer that is not trusted: `'reject'` (default) throws
   * `ERR_XFCC_UNTRUSTED_PEER`; `'ignore'` returns `undefined`, as if there were no header, so other
   * credentials (the mTLS peer, a JWT-SVID) can still be used.
   */
  untrustedPeer?: 'ignore' | 'reject'
  /**
   * When to verify the element's `Cert` (URL-encoded PEM) and `Chain` as an X.509-SVID against
   * `bundles`, and cross-check `URI` and `Hash` against the verified leaf:
   * `'off'`: never; `'if-present'`: when the element carries `Cert` or `Chain`; `'required'`: always,
   * and an element without them is `ERR_XFCC_CERT_REQUIRED`. Default: `'if-present'` when `bundles` is
   * given, `'off'` otherwise.
   */
  certCheck?: 'off' | 'if-present' | 'required'
  /** The trust bundles to verify `Cert` against. Required unless `certCheck` is `'off'`. */
  bundles?: X509BundleSource
  /** Tolerance on certificate validity when verifying `Cert`, in seconds. Default 0. */
  clockSkewSeconds?: number
  /** Longest accepted header in characters, all lines counted. Default 16384. */
  maxLength?: number
  /** How many verified `Cert` values to remember (0 disables the cache). Default 256. */
  cacheSize?: number
}

/**
 * What an extractor needs from a request; framework-neutral.
 *
 * @example
 * ```ts
 * const input: XfccExtractInput = {
 *   header: req.headersDistinct['x-forwarded-client-cert'],
 *   peerAddress: req.socket.remoteAddress,
 * }
 * const result = xfcc.extract(input)
 * ```
 */
export interface XfccExtractInput {
  /**
   * The `x-forwarded-client-cert` header: `req.headersDistinct['x-forwarded-client-cert']` (one string
   * per header line, preferred) or `req.headers['x-forwarded-client-cert']` (lines joined with `", "`).
   */
  header: string | readonly string[] | undefined
  /** The direct peer's address, `req.socket.remoteAddress`. */
  peerAddress: string | undefined
  /** The direct peer's SPIFFE ID, when the proxy connected with a verified X.509-SVID. */
  peerSpiffeId?: SpiffeId | undefined
}

/**
 * A caller vouched for by a trusted proxy through XFCC.
 *
 * @example
 * ```ts
 * const result = xfcc.extract({ header, peerAddress: req.socket.remoteAddress })
 * if (result) {
 *   const { caller, element, certificate }: XfccCaller = result
 *   console.log(caller.toString(), element.hash?.[0], certificate === undefined ? 'Cert not checked' : 'Cert verified')
 * }
 * ```
 */
export interface XfccCaller {
  /** The caller's SPIFFE ID (the selected element's `URI`). */
  readonly caller: SpiffeId
  /** The selected element, as parsed; frozen, as it may be shared by requests with the same header. */
  readonly element: XfccElement
  /** The verified leaf certificate, when `Cert`/`Chain` was checked. */
  readonly certificate?: X509Certificate
  /** When the verified chain expires, when `Cert`/`Chain` was checked. */
  readonly expiresAt?: Date
}

/**
 * The result of {@link XfccExtractor.extract}: `undefined` when there is no header or it was ignored.
 *
 * @example
 * ```ts
 * const result: XfccResult = xfcc.extract({ header: undefined, peerAddress: '127.0.0.1' })
 * result // undefined: no header
 * ```
 */
export type XfccResult = XfccCaller | undefined

/**
 * A compiled XFCC configuration.
 *
 * @example
 * ```ts
 * const xfcc: XfccExtractor = createXfccExtractor({ untrustedPeer: 'ignore' })
 * const result = xfcc.extract({ header: 'By=spiffe://example.org/api;URI=spiffe://example.org/web', peerAddress: '127.0.0.1' })
 * result?.caller.toString() // 'spiffe://example.org/web'
 * ```
 */
export interface XfccExtractor {
  /**
   * Authenticates a request's XFCC header: trusted peer, parse, element selection, `By`, then the
   * `Cert` check. Synchronous.
   *
   * @throws XfccError (every `ERR_XFCC_*` code); X509SvidError when a `Cert` fails X.509-SVID
   * verification (expired, untrusted, …).
   */
  extract(input: XfccExtractInput): XfccResult
}

/**
 * Builds an XFCC extractor from options validated now (invalid → `OptionsError`). Per request it:
 * 1. returns `undefined` when the header is absent or empty (no line, or only blank lines), from any peer;
 * 2. checks the direct peer (address/CIDR and/or the proxy's SPIFFE ID; default loopback only) and, when
 *    it is not trusted, returns `undefined` (`untrustedPeer: 'ignore'`) or throws
 *    `ERR_XFCC_UNTRUSTED_PEER` (default);
 * 3. parses the header ({@link parseXfcc}) and selects the caller ({@link selectXfccCaller}): the last
 *    element, or the one `trustedHops` from the end, with exactly one SPIFFE ID `URI`;
 * 4. when the element has `Cert`/`Chain` (or `certCheck: 'required'`), verifies it as an X.509-SVID
 *    against `bundles` and requires its ID to equal `URI` and its SHA-256 to equal `Hash`. Verified
 *    certificates are cached (bounded, keyed by a SHA-256 of the `Cert`/`Chain` text) until they expire or
 *    the trust domain's bundle changes, since a verification costs about 150 µs.
 *
 * The header is only as trustworthy as the proxy configuration. In front of the application, Envoy's
 * `forward_client_cert_details` must be `SANITIZE_SET`, or `APPEND_FORWARD` with this extractor
 * reading the last element (the default); never `FORWARD_ONLY` or `ALWAYS_FORWARD_ONLY` at an edge,
 * which pass a client's own header through.
 *
 * @example
 * ```ts
 * import { createXfccExtractor } from '@svidkit/core/xfcc'
 * import { matchId } from '@svidkit/core/spiffe-id'
 * const xfcc = createXfccExtractor({
 *   trustedPeers: { addresses: ['127.0.0.1', '::1'] },
 *   by: 'spiffe://example.org/api',
 *   bundles,
 * })
 * const result = xfcc.extract({
 *   header: req.headersDistinct['x-forwarded-client-cert'],
 *   peerAddress: req.socket.remoteAddress,
 * })
 * if (result) console.log(result.caller.toString())
 * ```
 */
export function createXfccExtractor(options: XfccOptions = {}): XfccExtractor {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'xfcc options must be an object')
  }
  const bad = optionsFailure('xfcc options')
  const peers = compilePeerTrust(options.trustedPeers, 'xfcc options: trustedPeers')
  const untrusted = options.untrustedPeer ?? 'reject'
  if (untrusted !== 'ignore' && untrusted !== 'reject') bad('untrustedPeer must be "ignore" or "reject"')
  const maxLength = checkMaxLength(options.maxLength, 'xfcc options: maxLength')
  if ((options.trustedHops ?? 1) > 1 && options.trustedProxies === undefined) {
    bad('trustedHops > 1 needs trustedProxies (pass matchAny() to trust any forwarding proxy explicitly)')
  }
  const select = compileXfccSelector(options, 'xfcc options')
  const bundles = options.bundles
  if (
    bundles !== undefined &&
    (typeof bundles !== 'object' || typeof bundles.getX509BundleForTrustDomain !== 'function')
  ) {
    bad('bundles must be an X509BundleSource')
  }
  const certCheck = options.certCheck ?? (bundles === undefined ? 'off' : 'if-present')
  if (certCheck !== 'off' && certCheck !== 'if-present' && certCheck !== 'required') {
    bad('certCheck must be "off", "if-present" or "required"')
  }
  if (certCheck !== 'off' && bundles === undefined) bad(`certCheck "${certCheck}" needs bundles`)
  const skew = checkClockSkew(options.clockSkewSeconds, 'xfcc options: clockSkewSeconds')
  // Proxies repeat identical headers: remember the last few selections (exact header strings; only
  // successful selections, frozen, since several requests share them). A stream of ever-new headers
  // (many clients, rotating certificates) would make the memo pure overhead, so it switches itself
  // off while it is not hitting, and probes again later: a miss then costs what no memo costs.
  const memo = new RecentSelections()
  const cache = new VerifiedChainCache(checkCacheSize(options.cacheSize, 'xfcc options: cacheSize'), skew)

  const extract = (input: XfccExtractInput): XfccResult => {
    const header = input.header
    if (header === undefined || header === null || isBlank(header)) return undefined
    if (!peers.isTrusted(input.peerAddress, input.peerSpiffeId)) {
      if (untrusted === 'ignore') return undefined
      throw new XfccError('ERR_XFCC_UNTRUSTED_PEER', 'header sent by a peer that is not a trusted proxy')
    }
    const memoKey = typeof header === 'string' ? header : header.length === 1 ? header[0] : undefined
    let selected = memoKey === undefined ? undefined : memo.get(memoKey)
    if (selected === undefined) {
      const elements = parseXfccUnchecked(header, maxLength)
      if (elements.length === 0) return undefined
      const s = select(elements)
      if (memoKey !== undefined && memo.wants()) {
        selected = Object.freeze({ caller: s.caller, element: freezeElement(s.element) })
        memo.set(memoKey, selected)
      } else selected = { caller: s.caller, element: s.element }
    }
    const { caller, element } = selected
    if (certCheck === 'off') return selected

    const certText = element.cert?.[0]
    const chainText = element.chain?.[0]
    if (certText === undefined && chainText === undefined) {
      if (certCheck === 'required') throw new XfccError('ERR_XFCC_CERT_REQUIRED', 'element carries no Cert')
      return selected
    }
    const verified = cache.verify(
      chainCacheKey(certText, chainText),
      () => decodeXfccCertificates(certText, chainText),
      bundles!,
    )
    if (verified.idText !== caller.toString()) {
      throw new XfccError('ERR_XFCC_CERT_MISMATCH', 'URI does not match the certificate SPIFFE ID')
    }
    const hash = element.hash
    if (hash !== undefined && hash[0]!.toLowerCase() !== verified.leafSha256) {
      throw new XfccError('ERR_XFCC_CERT_MISMATCH', 'Hash does not match the certificate')
    }
    return Object.freeze({ caller, element, certificate: verified.leaf, expiresAt: verified.expiresAt })
  }
  return Object.freeze({ extract })
}

/** Selections remembered per exact header string. */
export const XFCC_MEMO_SIZE = 64
/** The last hits compared before the map. */
const LAST = 4
/** Lookups per window of the memo's hit count. */
const WINDOW = 256
/** Below this many hits in a window, the memo stops (its misses would cost more than it saves)… */
const MIN_HITS = WINDOW / 8
/** …for this many lookups, then probes again. */
const PAUSE = 4096

/**
 * The last selections, by exact header string, that turns itself off while headers keep changing.
 * Bounded: at most {@link XFCC_MEMO_SIZE} entries, the oldest evicted first.
 */
class RecentSelections {
  readonly #map = new Map<string, { readonly caller: SpiffeId; readonly element: XfccElement }>()
  // The last few hits, compared with `===` before the map: a fresh header string compares (a memcmp)
  // faster than it hashes, and one proxy repeats a handful of headers.
  readonly #lastKeys: string[] = []
  readonly #lastValues: { readonly caller: SpiffeId; readonly element: XfccElement }[] = []
  #next = 0
  #lookups = 0
  #hits = 0
  #paused = 0

  get(key: string): { readonly caller: SpiffeId; readonly element: XfccElement } | undefined {
    if (this.#paused > 0) {
      this.#paused--
      return undefined
    }
    const keys = this.#lastKeys
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === key) {
        this.#hits++
        this.#count()
        return this.#lastValues[i]
      }
    }
    const hit = this.#map.get(key)
    if (hit !== undefined) {
      const slot = this.#next
      this.#next = (slot + 1) % LAST
      keys[slot] = key
      this.#lastValues[slot] = hit
    }
    if (hit !== undefined) this.#hits++
    this.#count()
    return hit
  }

  #count(): void {
    if (++this.#lookups === WINDOW) {
      if (this.#hits < MIN_HITS) {
        this.#paused = PAUSE
        this.#map.clear()
        this.#lastKeys.length = 0
        this.#lastValues.length = 0
      }
      this.#lookups = 0
      this.#hits = 0
    }
  }

  /** Whether a new selection is worth remembering now. */
  wants(): boolean {
    return this.#paused === 0
  }

  set(key: string, value: { readonly caller: SpiffeId; readonly element: XfccElement }): void {
    if (this.#map.size >= XFCC_MEMO_SIZE) this.#map.delete(this.#map.keys().next().value!)
    this.#map.set(key, value)
  }
}

/**
 * Whether a header is empty: no line, or only lines of spaces and tabs (`x-forwarded-client-cert:`
 * sent empty). Such a header names no caller from any peer, so it is treated as absent (step 1), the
 * same whether it arrives as a string or as lines.
 */
function isBlank(header: string | readonly string[]): boolean {
  if (typeof header === 'string') return blankLine(header)
  for (let k = 0; k < header.length; k++) {
    const line: unknown = header[k]
    if (typeof line !== 'string' || !blankLine(line)) return false
  }
  return true
}

function blankLine(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i)
    if (c !== 32 && c !== 9) return false
  }
  return true
}

function freezeElement(element: XfccElement): XfccElement {
  for (const key in element) Object.freeze(element[key])
  return Object.freeze(element)
}

/** Decodes `Cert` (exactly one certificate) and `Chain` (leaf first, leaf included), leaf first. */
function decodeXfccCertificates(
  certText: string | undefined,
  chainText: string | undefined,
): X509Certificate[] {
  try {
    const cert = certText === undefined ? undefined : urlEncodedPemToCertificates(certText, 'Cert')
    if (cert !== undefined && cert.length !== 1) {
      throw new XfccError('ERR_XFCC_CERT_INVALID', `Cert holds ${cert.length} certificates, not one`)
    }
    const chain = chainText === undefined ? undefined : urlEncodedPemToCertificates(chainText, 'Chain')
    if (cert !== undefined && chain !== undefined) {
      if (!chain[0]!.raw.equals(cert[0]!.raw)) {
        throw new XfccError('ERR_XFCC_CERT_MISMATCH', 'Chain does not start with Cert')
      }
      return chain
    }
    return (chain ?? cert)!
  } catch (err) {
    if (err instanceof ForwardedCertError) {
      throw new XfccError('ERR_XFCC_CERT_INVALID', err.reason, { cause: err })
    }
    throw err
  }
}
