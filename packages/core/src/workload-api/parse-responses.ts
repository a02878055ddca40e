// Turns Workload API messages into svidkit's core types, enforcing the spec's message rules:
// mandatory fields (§4.5: report and discard), hint de-duplication (first wins), bundle map keys as
// `spiffe://<td>` or a bare `<td>` (like go-spiffe's TrustDomainFromString). Not exported from the package.
import { BundleSet } from '../bundle/bundle-set.js'
import { JwtBundle } from '../bundle/jwt-bundle.js'
import { X509Bundle } from '../bundle/x509-bundle.js'
import { WorkloadApiError } from '../errors/domain-errors.js'
import type { JwtSvid } from '../jwt-svid/jwt-svid.js'
import { parseJwtSvidInsecure } from '../jwt-svid/parse-jwt-svid-insecure.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'
import { parseX509Svid } from '../x509-svid/parse-x509-svid.js'
import type { X509Svid } from '../x509-svid/x509-svid.js'
import type {
  JwtBundlesResponseMessage,
  JwtSvidResponseMessage,
  X509BundlesResponseMessage,
  X509SvidResponseMessage,
} from './proto/workload-proto.js'

/**
 * What one `FetchX509SVID` message carries: the workload's X.509-SVIDs (the first is the default
 * identity; with duplicate hints only the first is kept) and the X.509 bundles to trust — the bundle
 * of each SVID's own trust domain plus the federated bundles.
 *
 * @example
 * ```ts
 * const ctx = await client.fetchX509Context()
 * const svid = ctx.svids[0]                       // the default identity
 * ctx.bundles.getX509BundleForTrustDomain(svid.id.trustDomain)
 * ```
 */
export interface X509Context {
  /** The SVIDs, in the agent's order; never empty. */
  readonly svids: readonly X509Svid[]
  /** Own and federated X.509 bundles (only X.509 parts are set). */
  readonly bundles: BundleSet
}

const malformed = (reason: string, cause?: unknown): WorkloadApiError =>
  new WorkloadApiError('ERR_WORKLOAD_API_MALFORMED_RESPONSE', reason, cause === undefined ? {} : { cause })

const empty = (b: Uint8Array | undefined | null): boolean => !b || b.length === 0

function trustDomainKey(key: string, what: string): TrustDomain {
  try {
    return TrustDomain.parse(key)
  } catch (cause) {
    throw malformed(`${what} has a key that is not a trust domain`, cause)
  }
}

/** @internal Parses an `X509SVIDResponse` (svids required, every X509SVID field but hint required). */
export function parseX509SvidResponse(msg: X509SvidResponseMessage): X509Context {
  if (!msg.svids || msg.svids.length === 0) throw malformed('X509SVIDResponse has no svids (mandatory field)')
  msg.svids.forEach((s, i) => {
    const missing = !s.spiffeId
      ? 'spiffe_id'
      : empty(s.x509Svid)
        ? 'x509_svid'
        : empty(s.x509SvidKey)
          ? 'x509_svid_key'
          : empty(s.bundle)
            ? 'bundle'
            : undefined
    if (missing) throw malformed(`X509SVIDResponse svid ${i} has no ${missing} (mandatory field)`)
  })
  const seenHints = new Set<string>()
  const svids: X509Svid[] = []
  const bundles = new BundleSet()
  for (const [i, s] of msg.svids.entries()) {
    let id: SpiffeId
    try {
      id = SpiffeId.parse(s.spiffeId)
    } catch (cause) {
      throw malformed(`X509SVIDResponse svid ${i} has an invalid spiffe_id`, cause)
    }
    if (!bundles.has(id.trustDomain)) {
      try {
        bundles.add(X509Bundle.fromDer(id.trustDomain, s.bundle))
      } catch (cause) {
        throw malformed(`X509SVIDResponse svid ${i} has an invalid bundle`, cause)
      }
    }
    if (s.hint) {
      if (seenHints.has(s.hint)) continue // Workload API §5.2.1: the first one with a hint wins.
      seenHints.add(s.hint)
    }
    let svid: X509Svid
    try {
      svid = parseX509Svid(s.x509Svid, s.x509SvidKey, { hint: s.hint || undefined })
    } catch (cause) {
      throw malformed(`X509SVIDResponse svid ${i} ("${id}") is not a valid X.509-SVID`, cause)
    }
    if (!svid.id.equals(id)) {
      throw malformed(
        `X509SVIDResponse svid ${i}: spiffe_id "${id}" does not match the certificate's "${svid.id}"`,
      )
    }
    svids.push(svid)
  }
  for (const [key, der] of Object.entries(msg.federatedBundles ?? {})) {
    if (empty(der)) continue // an empty value is no bundle (§4.4)
    const td = trustDomainKey(key, 'X509SVIDResponse.federated_bundles')
    if (bundles.has(td)) continue // never let a federated entry replace the SVIDs' own trust domain bundle
    try {
      bundles.add(X509Bundle.fromDer(td, der))
    } catch (cause) {
      throw malformed(`X509SVIDResponse federated bundle for "${td}" is invalid`, cause)
    }
  }
  return Object.freeze({ svids: Object.freeze(svids), bundles })
}

/** @internal Parses an `X509BundlesResponse` (bundles required). */
export function parseX509BundlesResponse(msg: X509BundlesResponseMessage): BundleSet {
  const entries = Object.entries(msg.bundles ?? {}).filter(([, v]) => !empty(v))
  if (entries.length === 0) throw malformed('X509BundlesResponse has no bundles (mandatory field)')
  const set = new BundleSet()
  for (const [key, der] of entries) {
    const td = trustDomainKey(key, 'X509BundlesResponse.bundles')
    try {
      set.add(X509Bundle.fromDer(td, der))
    } catch (cause) {
      throw malformed(`X509BundlesResponse bundle for "${td}" is invalid`, cause)
    }
  }
  return set
}

/** @internal Parses a `JWTBundlesResponse` (bundles required; values are JWKS JSON bytes). */
export function parseJwtBundlesResponse(msg: JwtBundlesResponseMessage): BundleSet {
  const entries = Object.entries(msg.bundles ?? {}).filter(([, v]) => !empty(v))
  if (entries.length === 0) throw malformed('JWTBundlesResponse has no bundles (mandatory field)')
  const set = new BundleSet()
  for (const [key, jwks] of entries) {
    const td = trustDomainKey(key, 'JWTBundlesResponse.bundles')
    try {
      set.add(JwtBundle.fromJwks(td, jwks))
    } catch (cause) {
      throw malformed(`JWTBundlesResponse bundle for "${td}" is invalid`, cause)
    }
  }
  return set
}

/** @internal Parses a `JWTSVIDResponse`; the tokens' claims are read without checking signatures. */
export function parseJwtSvidResponse(msg: JwtSvidResponseMessage, audience: readonly string[]): JwtSvid[] {
  if (!msg.svids || msg.svids.length === 0) throw malformed('JWTSVIDResponse has no svids (mandatory field)')
  msg.svids.forEach((s, i) => {
    if (!s.spiffeId) throw malformed(`JWTSVIDResponse svid ${i} has no spiffe_id (mandatory field)`)
    if (!s.svid) throw malformed(`JWTSVIDResponse svid ${i} has no svid (mandatory field)`)
  })
  const seenHints = new Set<string>()
  const out: JwtSvid[] = []
  for (const [i, s] of msg.svids.entries()) {
    if (s.hint) {
      if (seenHints.has(s.hint)) continue
      seenHints.add(s.hint)
    }
    out.push(decodeFetchedJwtSvid(s.svid, audience, s.hint || undefined, `JWTSVIDResponse svid ${i}`))
  }
  return out
}

/** @internal Reads a token the agent issued (go-spiffe `jwtsvid.ParseInsecure`): claims only, no signature. */
export function decodeFetchedJwtSvid(
  token: string,
  audience: readonly string[],
  hint: string | undefined,
  what: string,
): JwtSvid {
  let svid: JwtSvid
  try {
    svid = parseJwtSvidInsecure(token, audience.length > 0 ? { audience: [...audience] } : {})
  } catch (cause) {
    throw malformed(`${what} is not a usable JWT-SVID`, cause)
  }
  return hint === undefined ? svid : Object.freeze({ ...svid, hint })
}
