import { XfccError } from '../errors/domain-errors.js'
import { SvidkitError } from '../errors/svidkit-error.js'
import { optionsFailure } from '../internal/options.js'
import type { Matcher } from '../spiffe-id/matcher.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { XfccElement } from './xfcc-element.js'

/**
 * Options for {@link selectXfccCaller} (and the selection part of `createXfccExtractor`).
 *
 * @example
 * ```ts
 * const options: SelectXfccCallerOptions = {
 *   trustedHops: 2, // one trusted forwarding proxy between the caller and the last proxy
 *   trustedProxies: matchId('spiffe://example.org/ingress'),
 *   by: 'spiffe://example.org/api',
 * }
 * const { caller } = selectXfccCaller(parseXfcc(header), options)
 * ```
 */
export interface SelectXfccCallerOptions {
  /**
   * Which element names the caller, counted from the end: `1` (default) is the last element, the one
   * the proxy directly in front of the application appended. `N` takes the element `N` from the end,
   * for `N - 1` trusted forwarding proxies in between. Fewer elements → `ERR_XFCC_HOPS`.
   */
  trustedHops?: number
  /**
   * The identities of the forwarding proxies, checked when `trustedHops > 1`: every element after the
   * selected one must carry exactly one `URI` matching this matcher (element `k + 1` names, as its
   * client, the proxy that appended element `k`). Without it a workload that can reach the last proxy
   * directly could prepend any element it likes. Mismatch → `ERR_XFCC_HOPS`.
   */
  trustedProxies?: Matcher
  /**
   * Require the **last** element's `By` (the SPIFFE ID of the proxy directly in front of the
   * application, which in a sidecar deployment is the application's own SPIFFE ID) to be this ID or to
   * match this matcher. `By` may repeat (one per URI SAN of the proxy's certificate); any one may match.
   * No `By`, or none matching → `ERR_XFCC_BY_MISMATCH`.
   */
  by?: SpiffeId | string | Matcher
  /** Also read the caller from the legacy `SAN` key (Envoy before 2018, Linkerd 1). Default `false`. */
  acceptLegacySan?: boolean
}

/**
 * The element that names the caller, and the caller.
 *
 * @example
 * ```ts
 * const selection: XfccSelection = selectXfccCaller(parseXfcc('By=spiffe://example.org/api;URI=spiffe://example.org/web'))
 * selection.caller.toString() // 'spiffe://example.org/web'
 * selection.index // 0: the first (and only) element
 * ```
 */
export interface XfccSelection {
  /** The caller's SPIFFE ID: the one `URI` of the selected element. */
  readonly caller: SpiffeId
  /** The selected element. */
  readonly element: XfccElement
  /** Its index in the element list (0 is the oldest). */
  readonly index: number
}

/** @internal A compiled selection. */
export type XfccSelector = (elements: readonly XfccElement[]) => XfccSelection

const URI_CACHE_SIZE = 64

/** @internal Validates and compiles selection options. Throws `OptionsError`. */
export function compileXfccSelector(options: SelectXfccCallerOptions, field = 'options'): XfccSelector {
  const bad = optionsFailure(`${field}`)
  const hops = options.trustedHops ?? 1
  if (typeof hops !== 'number' || !Number.isInteger(hops) || hops < 1)
    bad('trustedHops must be an integer ≥ 1')
  const proxies = options.trustedProxies
  if (proxies !== undefined && typeof proxies !== 'function') bad('trustedProxies must be a Matcher')
  const legacySan = options.acceptLegacySan === true

  let byCheck: ((values: readonly string[]) => boolean) | undefined
  const by = options.by
  if (by !== undefined) {
    if (typeof by === 'function') {
      byCheck = (values) => {
        for (const v of values) {
          const id = SpiffeId.tryParse(v)
          if (id !== undefined && by(id).matched) return true
        }
        return false
      }
    } else {
      let want: string
      try {
        want = (typeof by === 'string' ? SpiffeId.parse(by) : by).toString()
      } catch (cause) {
        if (cause instanceof SvidkitError) bad(`by is not a valid SPIFFE ID (${cause.reason})`)
        throw cause
      }
      if (typeof want !== 'string' || !want.startsWith('spiffe://'))
        bad('by must be a SpiffeId, a string or a Matcher')
      byCheck = (values) => values.includes(want)
    }
  }

  // Proxies repeat the same few caller IDs: remember the parsed ones.
  const parsed = new Map<string, SpiffeId>()
  const callerOf = (element: XfccElement, what: string): SpiffeId => {
    let found: string | undefined
    let count = 0
    const uris = element.uri
    if (uris !== undefined) {
      for (let k = 0; k < uris.length; k++) {
        if (uris[k] === '') continue // Envoy writes `URI=` when the certificate has no URI SAN
        if (count++ === 0) found = uris[k]
      }
    }
    const sans = legacySan ? element.san : undefined
    if (sans !== undefined) {
      for (let k = 0; k < sans.length; k++) {
        if (sans[k] === '') continue
        if (count++ === 0) found = sans[k]
      }
    }
    if (count === 0) throw new XfccError('ERR_XFCC_NO_URI', `${what} has no URI`)
    if (count > 1) throw new XfccError('ERR_XFCC_MULTIPLE_URIS', `${what} has ${count} URIs`)
    const text = found!
    const hit = parsed.get(text)
    if (hit !== undefined) return hit
    let id: SpiffeId
    try {
      id = SpiffeId.parse(text)
    } catch (cause) {
      throw new XfccError('ERR_XFCC_INVALID_URI', `${what} URI is not a valid SPIFFE ID`, { cause })
    }
    if (id.isRoot) {
      throw new XfccError('ERR_XFCC_INVALID_URI', `${what} URI is a trust domain ID, not a workload ID`)
    }
    if (parsed.size >= URI_CACHE_SIZE) parsed.clear()
    parsed.set(text, id)
    return id
  }

  return (elements) => {
    const n = elements.length
    if (n === 0) throw new XfccError('ERR_XFCC_MISSING', 'header has no element')
    if (n < hops) {
      throw new XfccError('ERR_XFCC_HOPS', `header has ${n} element(s), fewer than trustedHops (${hops})`)
    }
    const last = elements[n - 1]!
    if (byCheck !== undefined) {
      const values = last.by
      if (values === undefined || values.length === 0) {
        throw new XfccError('ERR_XFCC_BY_MISMATCH', 'last element has no By')
      }
      if (!byCheck(values)) throw new XfccError('ERR_XFCC_BY_MISMATCH', 'last element By does not match')
    }
    const index = n - hops
    if (proxies !== undefined) {
      for (let k = index + 1; k < n; k++) {
        const hop = n - k
        let proxy: SpiffeId
        try {
          proxy = callerOf(elements[k]!, `element ${hop} from the end`)
        } catch (cause) {
          throw new XfccError(
            'ERR_XFCC_HOPS',
            `element ${hop} from the end does not name a forwarding proxy`,
            {
              cause,
            },
          )
        }
        if (!proxies(proxy).matched) {
          throw new XfccError(
            'ERR_XFCC_HOPS',
            `element ${hop} from the end names an untrusted forwarding proxy`,
          )
        }
      }
    }
    const element = elements[index]!
    return Object.freeze({ caller: callerOf(element, 'selected element'), element, index })
  }
}

/**
 * Picks the caller out of parsed XFCC elements: the element `trustedHops` from the end (default: the
 * last one, the only one the proxy in front of the application vouches for), which must carry exactly
 * one `URI` that is a SPIFFE ID with a path (an empty `URI=` counts as none). Optionally checks the last
 * element's `By` and the forwarding proxies. Does **not** check who sent the header (the trusted peer)
 * nor the `Cert`: use `createXfccExtractor` to handle requests. Never uses the first element unless it is
 * the one selected.
 *
 * @throws XfccError `ERR_XFCC_MISSING`, `ERR_XFCC_HOPS`, `ERR_XFCC_NO_URI`, `ERR_XFCC_MULTIPLE_URIS`,
 * `ERR_XFCC_INVALID_URI` or `ERR_XFCC_BY_MISMATCH`; OptionsError for invalid options.
 * @example
 * ```ts
 * import { parseXfcc, selectXfccCaller } from '@svidkit/core/xfcc'
 * const elements = parseXfcc('By=spiffe://example.org/api;URI=spiffe://example.org/web')
 * const { caller } = selectXfccCaller(elements, { by: 'spiffe://example.org/api' })
 * caller.toString() // 'spiffe://example.org/web'
 * ```
 */
export function selectXfccCaller(
  elements: readonly XfccElement[],
  options: SelectXfccCallerOptions = {},
): XfccSelection {
  return compileXfccSelector(options)(elements)
}
