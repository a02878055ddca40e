// The trusted-peer model shared by the XFCC extractor and the forwarded-certificate extractor: is the
// request's direct peer (the proxy) allowed to vouch for a client identity in a header? Addresses and
// CIDRs are compiled to numbers once; a per-request check is a few integer comparisons.
// Not exported from the package (the options type is re-exported by `xfcc` and `forwarded-cert`).
import { isIP } from 'node:net'
import type { Matcher } from '../spiffe-id/matcher.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import { optionsFailure } from './options.js'

/**
 * Which direct peers (the proxy in front of the application) may vouch for a forwarded client identity.
 *
 * @example
 * ```ts
 * const trustedPeers: TrustedPeerOptions = {
 *   addresses: ['127.0.0.0/8', '::1', '10.0.0.0/8'],
 *   spiffeId: matchId('spiffe://example.org/ingress'),
 * }
 * ```
 */
export interface TrustedPeerOptions {
  /**
   * Peer addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`). An IPv4 peer and its
   * IPv4-mapped form (`::ffff:10.1.2.3`, as Node reports IPv4 clients of a dual-stack listener) are the
   * same peer, matched against IPv4 ranges and against IPv6 ranges covering `::ffff:0:0/96` (as
   * `net.BlockList` does). Default: loopback only, `['127.0.0.0/8', '::1']`. Pass `[]` to trust no address (for
   * example to trust peers by SPIFFE ID alone).
   */
  addresses?: readonly string[]
  /**
   * A matcher over the direct peer's own verified mTLS SPIFFE ID (the proxy's X.509-SVID, as the
   * adapter read it from the TLS socket). Unset: no peer is trusted by ID.
   */
  spiffeId?: Matcher
  /**
   * `'either'` (default): a peer is trusted when its address is in `addresses` **or** its SPIFFE ID
   * matches `spiffeId`. `'both'`: it must pass both checks (both must then be configured). Either
   * way, a peer that presented a verified SVID is trusted only when `spiffeId` is unset or matches
   * it: a workload with its own SVID never vouches for others from a trusted address.
   */
  require?: 'either' | 'both'
  /**
   * Only a peer that presented a verified X.509-SVID matching `spiffeId` may vouch: an address
   * alone never suffices (with `require: 'both'` the address must match too). `createCallerVerifier`
   * sets this when its mTLS channel is on, since every workload that can reach the service then has
   * an SVID of its own.
   */
  requireSvid?: boolean
  /**
   * Lets `createCallerVerifier` trust a proxy by address alone while its mTLS channel is on (it
   * refuses to start otherwise). Any workload connecting from a trusted address could then name
   * any caller; a warning is logged at startup. Prefer `spiffeId`.
   */
  insecureAddressOnly?: boolean
}

/** @internal A compiled {@link TrustedPeerOptions}. */
export interface PeerTrust {
  /** Whether the direct peer may vouch for a forwarded identity. Never throws. */
  isTrusted(address: string | undefined, peerSpiffeId: SpiffeId | undefined): boolean
}

/** The default trusted addresses: loopback (IPv4-mapped loopback is covered by the IPv4 range). */
export const DEFAULT_TRUSTED_ADDRESSES: readonly string[] = Object.freeze(['127.0.0.0/8', '::1/128'])

interface V6Range {
  readonly base: Uint16Array
  readonly mask: Uint16Array
}

/**
 * Validates and compiles trusted-peer options. `field` names the option in error messages.
 * @internal
 */
export function compilePeerTrust(options: TrustedPeerOptions | undefined, field: string): PeerTrust {
  const bad = optionsFailure(`${field}`)
  if (options !== undefined && (typeof options !== 'object' || options === null)) bad('must be an object')
  const opts = options ?? {}
  const addresses = opts.addresses ?? DEFAULT_TRUSTED_ADDRESSES
  if (!Array.isArray(addresses)) bad('addresses must be an array of addresses or CIDR ranges')
  const matcher = opts.spiffeId
  if (matcher !== undefined && typeof matcher !== 'function') bad('spiffeId must be a Matcher')
  const require = opts.require ?? 'either'
  if (require !== 'either' && require !== 'both') bad('require must be "either" or "both"')
  if (require === 'both' && (matcher === undefined || addresses.length === 0)) {
    bad('require "both" needs both addresses and spiffeId')
  }
  if (opts.requireSvid !== undefined && typeof opts.requireSvid !== 'boolean')
    bad('requireSvid must be a boolean')
  if (opts.insecureAddressOnly !== undefined && typeof opts.insecureAddressOnly !== 'boolean') {
    bad('insecureAddressOnly must be a boolean')
  }
  const requireSvid = opts.requireSvid === true
  if (requireSvid && matcher === undefined) {
    bad(
      "a proxy must be trusted by its SPIFFE ID here (set spiffeId, e.g. matchId('spiffe://example.org/ns/edge/sa/proxy')): by address alone, any workload connecting from a trusted address with its own SVID could name any caller",
    )
  }

  // IPv4 ranges as parallel [base, mask] arrays of uint32.
  const v4: number[] = []
  const v6: V6Range[] = []
  for (const entry of addresses) {
    if (typeof entry !== 'string') bad('every address must be a string')
    const slash = entry.indexOf('/')
    const host = slash < 0 ? entry : entry.slice(0, slash)
    const kind = host.includes('%') ? 0 : isIP(host)
    if (kind === 0) bad(`"${entry}" is not an IP address or CIDR range`)
    const max = kind === 4 ? 32 : 128
    let prefix = max
    if (slash >= 0) {
      const p = entry.slice(slash + 1)
      if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) bad(`"${entry}" has an invalid prefix length`)
      prefix = Number(p)
    }
    if (kind === 4) {
      const ip = parseIPv4(host, 0, host.length)
      if (ip < 0) bad(`"${entry}" is not an IPv4 address`)
      const mask = v4Mask(prefix)
      v4.push((ip & mask) >>> 0, mask)
      continue
    }
    const groups = parseIPv6(host)
    if (!groups) bad(`"${entry}" is not an IPv6 address`)
    const g = groups!
    // An IPv4-mapped range (::ffff:a.b.c.d/96+) is the same thing as the IPv4 range.
    if (prefix >= 96 && isMapped(g)) {
      const mask = v4Mask(prefix - 96)
      v4.push((((g[6]! << 16) | g[7]!) & mask) >>> 0, mask)
      continue
    }
    const mask = new Uint16Array(8)
    for (let k = 0; k < 8; k++) {
      const bits = Math.max(0, Math.min(16, prefix - 16 * k))
      mask[k] = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff
    }
    const base = new Uint16Array(8)
    for (let k = 0; k < 8; k++) base[k] = g[k]! & mask[k]!
    v6.push({ base, mask })
  }
  const v4Ranges = Int32Array.from(v4.map((x) => x | 0))
  const hasAddresses = v4.length > 0 || v6.length > 0

  // Per-request parsing writes into one reused buffer (checks are synchronous and never nested).
  const scratch = new Uint16Array(8)
  const v4Trusted = (ip: number): boolean => {
    const ipi = ip | 0
    for (let k = 0; k < v4Ranges.length; k += 2) {
      if ((ipi & v4Ranges[k + 1]!) === v4Ranges[k]) return true
    }
    return false
  }
  const v6Trusted = (g: Uint16Array): boolean => {
    for (const r of v6) {
      let ok = true
      for (let k = 0; k < 8; k++) {
        if ((g[k]! & r.mask[k]!) !== r.base[k]) {
          ok = false
          break
        }
      }
      if (ok) return true
    }
    return false
  }
  // The last answer: requests come in runs from one proxy, whose address is the same string.
  let lastAddress = ''
  let lastTrusted = false
  const addressTrusted = (address: string | undefined): boolean => {
    if (!hasAddresses || typeof address !== 'string' || address.length === 0) return false
    if (address === lastAddress) return lastTrusted
    lastTrusted = parsedAddressTrusted(address)
    lastAddress = address
    return lastTrusted
  }
  const parsedAddressTrusted = (address: string): boolean => {
    // An IPv4 peer and its IPv4-mapped form (an IPv4 client of a dual-stack listener) are the same
    // peer: each is checked against both kinds of ranges, as net.BlockList does.
    let ip = -1
    if (address.indexOf(':') < 0) ip = parseIPv4(address, 0, address.length)
    else if (address.startsWith('::ffff:') && address.indexOf('.', 7) > 0) {
      ip = parseIPv4(address, 7, address.length) // fast path for Node's dual-stack form
    }
    if (ip >= 0) {
      if (v4Trusted(ip)) return true
      if (v6.length === 0) return false
      const g = scratch.fill(0)
      g[5] = 0xffff
      g[6] = ip >>> 16
      g[7] = ip & 0xffff
      return v6Trusted(g)
    }
    if (address.indexOf(':') < 0) return false
    const g = parseIPv6(address, scratch)
    if (!g) return false
    if (isMapped(g) && v4Trusted(((g[6]! << 16) | g[7]!) >>> 0)) return true
    return v6Trusted(g)
  }
  const idTrusted = (id: SpiffeId | undefined): boolean => {
    if (matcher === undefined || id === undefined || id === null) return false
    try {
      return matcher(id).matched === true
    } catch {
      return false
    }
  }
  const both = require === 'both'
  return Object.freeze({
    isTrusted: (address: string | undefined, id: SpiffeId | undefined): boolean => {
      // A peer with a verified SVID is known by it: the trust must name it.
      if (requireSvid || (id !== undefined && id !== null && matcher !== undefined)) {
        return idTrusted(id) && (!both || addressTrusted(address))
      }
      return both ? false : addressTrusted(address)
    },
  })
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
}

function isMapped(g: Uint16Array): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff
}

/** Dotted-quad IPv4 in `s[start, end)` as an unsigned 32-bit number, or -1. No leading zeros. */
function parseIPv4(s: string, start: number, end: number): number {
  let value = 0
  let parts = 0
  let i = start
  while (parts < 4) {
    const first = i
    let octet = 0
    while (i < end) {
      const c = s.charCodeAt(i)
      if (c < 48 || c > 57) break
      octet = octet * 10 + (c - 48)
      i++
    }
    const len = i - first
    if (len === 0 || len > 3 || octet > 255 || (len > 1 && s.charCodeAt(first) === 48)) return -1
    value = value * 256 + octet
    parts++
    if (parts < 4) {
      if (i >= end || s.charCodeAt(i) !== 46) return -1
      i++
    }
  }
  return i === end ? value : -1
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** An IPv6 address (optionally with an embedded IPv4 tail and a `%zone`, ignored) as 8 groups, or undefined. */
function parseIPv6(s: string, into?: Uint16Array): Uint16Array | undefined {
  let end = s.indexOf('%')
  if (end < 0) end = s.length
  else if (end === s.length - 1) return undefined
  const groups = into === undefined ? new Uint16Array(8) : into.fill(0)
  let n = 0
  let gap = -1
  let i = 0
  if (end >= 2 && s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return undefined
    gap = 0
    i = 2
  }
  while (i < end) {
    if (n === 8) return undefined
    let j = i
    let v = 0
    while (j < end) {
      const h = hexValue(s.charCodeAt(j))
      if (h < 0) break
      v = v * 16 + h
      j++
    }
    if (j < end && s.charCodeAt(j) === 46) {
      // Embedded IPv4 in the last 32 bits.
      if (n > 6) return undefined
      const ip = parseIPv4(s, i, end)
      if (ip < 0) return undefined
      groups[n++] = ip >>> 16
      groups[n++] = ip & 0xffff
      i = end
      break
    }
    if (j === i || j - i > 4) return undefined
    groups[n++] = v
    if (j === end) {
      i = j
      break
    }
    if (s.charCodeAt(j) !== 58) return undefined
    j++
    if (j < end && s.charCodeAt(j) === 58) {
      if (gap >= 0) return undefined
      gap = n
      j++
    } else if (j === end) return undefined
    i = j
  }
  if (i !== end) return undefined
  if (gap < 0) return n === 8 ? groups : undefined
  if (n > 7) return undefined
  // Move the groups after the gap to the end.
  const tail = n - gap
  for (let k = 0; k < tail; k++) {
    groups[7 - k] = groups[n - 1 - k]!
    groups[n - 1 - k] = 0
  }
  // Clear anything between (the move above may leave stale values when tail overlaps).
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0
  return groups
}
