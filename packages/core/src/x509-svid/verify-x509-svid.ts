import type { X509Certificate } from 'node:crypto'
import type { X509BundleSource } from '../bundle/bundle-source.js'
import { OptionsError, X509SvidError } from '../errors/domain-errors.js'
import { SvidkitError } from '../errors/svidkit-error.js'
import { type CertificateInfo, toX509 } from '../internal/certificate-info.js'
import { countPemCertificates, decodePem, splitConcatenatedDer } from '../internal/pem.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import { MAX_CHAIN_BYTES, MAX_CHAIN_CERTIFICATES, MAX_CHAIN_SIGNATURE_CHECKS } from './chain-limits.js'
import { certInfo, checkLeaf, checkSigner, idFromInfo } from './leaf-rules.js'

/**
 * Options for {@link verifyX509Svid}.
 *
 * @example
 * ```ts
 * const options: VerifyX509SvidOptions = { at: new Date('2030-01-01T00:00:00Z'), clockSkewSeconds: 30, maxPathLength: 4 }
 * const { id } = verifyX509Svid(peerChainPem, bundles, options)
 * ```
 */
export interface VerifyX509SvidOptions {
  /** The time to verify at. Default: now. */
  at?: Date
  /** Tolerance applied to `notBefore` / `notAfter`, in seconds. Default 0. */
  clockSkewSeconds?: number
  /** Require the KeyUsage extension to be critical, as X509-SVID §4.3 says. Default `false` (go-spiffe does not check it). */
  requireCriticalKeyUsage?: boolean
  /** When the leaf has an EKU extension, require both serverAuth and clientAuth (X509-SVID §4.4). Default `false`, like go-spiffe. */
  enforceExtKeyUsage?: boolean
  /** Longest accepted path, leaf and authority included. Default 8. */
  maxPathLength?: number
}

/**
 * A verified X.509-SVID peer.
 *
 * @example
 * ```ts
 * const verified: VerifiedX509Svid = verifyX509Svid(peerChainPem, bundles)
 * verified.id.toString() // 'spiffe://example.org/web'
 * verified.chain.length // leaf, intermediates and the bundle authority
 * ```
 */
export interface VerifiedX509Svid {
  /** The peer's SPIFFE ID. */
  readonly id: SpiffeId
  /** Its trust domain, whose bundle verified the chain. */
  readonly trustDomain: TrustDomain
  /** The verified path: leaf, intermediates, then the bundle authority. */
  readonly chain: readonly X509Certificate[]
  /** The earliest `notAfter` on the path: when this verification stops holding. */
  readonly expiresAt: Date
}

/**
 * A peer chain as svidkit accepts it: certificate objects or DER (leaf first), PEM text, or concatenated DER.
 *
 * @example
 * ```ts
 * const fromPem: CertificateChainInput = readFileSync('chain.pem', 'utf8')
 * const fromObjects: CertificateChainInput = [leaf, intermediate] // X509Certificate objects, leaf first
 * verifyX509Svid(fromObjects, bundles)
 * ```
 */
export type CertificateChainInput = readonly (X509Certificate | Uint8Array)[] | string | Uint8Array

/**
 * Verifies a peer's X.509-SVID chain (X509-SVID §5) against the bundle of the **leaf's own trust
 * domain**, so one federated trust domain's CA can never vouch for another's IDs. It checks, in order:
 * exactly one URI SAN that is a SPIFFE ID with a non-root path; a leaf with `cA=false`,
 * `digitalSignature` and neither `keyCertSign` nor `cRLSign`; an RFC 5280 path through the given
 * intermediates to an authority of that bundle, each signer with `cA=true` and `keyCertSign`, path
 * length and URI/DNS name constraints honoured, no unhandled critical extension; and every certificate's
 * validity at `at` (± `clockSkewSeconds`). Stricter than go-spiffe's `x509svid.Verify`, which skips the
 * root-path and `digitalSignature` checks on peers. Authorization is separate (matchers, policy).
 *
 * A chain of more than `MAX_CHAIN_CERTIFICATES` (16) certificates or `MAX_CHAIN_BYTES` (256 KiB) is
 * refused before any certificate is parsed (`ERR_X509_SVID_TOO_LARGE`), and path building gives up
 * (`ERR_X509_SVID_UNTRUSTED`) past `MAX_CHAIN_SIGNATURE_CHECKS` (100) signature checks or 1024
 * candidate paths, so the time a verification takes is bounded whatever the peer sends.
 *
 * @throws X509SvidError with a precise code (`ERR_X509_SVID_EXPIRED`, `ERR_X509_SVID_UNTRUSTED`, …).
 * @example
 * ```ts
 * import { verifyX509Svid } from '@svidkit/core/x509-svid'
 * const { id, expiresAt } = verifyX509Svid(socket.getPeerX509Certificate() ? [peerLeaf, ...intermediates] : [], bundles)
 * ```
 */
export function verifyX509Svid(
  chain: CertificateChainInput,
  bundles: X509BundleSource,
  options: VerifyX509SvidOptions = {},
): VerifiedX509Svid {
  const skew = options.clockSkewSeconds ?? 0
  const maxPath = options.maxPathLength ?? 8
  if (typeof skew !== 'number' || !(skew >= 0))
    throw new OptionsError('ERR_OPTIONS_INVALID', 'clockSkewSeconds must be a non-negative number')
  if (!Number.isInteger(maxPath) || maxPath < 2)
    throw new OptionsError('ERR_OPTIONS_INVALID', 'maxPathLength must be an integer ≥ 2')
  if (!bundles || typeof bundles.getX509BundleForTrustDomain !== 'function') {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'a bundle source is required')
  }
  const certs = normalizeChain(chain)
  if (certs.length === 0) throw new X509SvidError('ERR_X509_SVID_EMPTY_CHAIN', 'empty certificates chain')
  const at = (options.at ?? new Date()).getTime()
  const skewMs = skew * 1000

  const leaf = certs[0]!
  const leafInfo = certInfo(leaf, 'leaf')
  const id = idFromInfo(leafInfo)
  checkLeaf(leafInfo, id, {
    requireCriticalKeyUsage: options.requireCriticalKeyUsage === true,
    enforceExtKeyUsage: options.enforceExtKeyUsage === true,
  })
  const bundle = bundles.getX509BundleForTrustDomain(id.trustDomain)
  if (!bundle) {
    throw new X509SvidError(
      'ERR_X509_SVID_NO_BUNDLE',
      `no X.509 bundle found for trust domain "${id.trustDomain}"`,
    )
  }
  const intermediates = certs
    .slice(1)
    .map((c, i) => ({ cert: c, info: certInfo(c, `intermediate ${i + 1}`) }))
  const roots = bundle.authorities

  checkValidity(leafInfo, at, skewMs, 'leaf certificate')

  // Depth-first search for a path leaf → … → authority. `best` keeps the most telling failure.
  let best: X509SvidError | undefined
  const note = (err: unknown): void => {
    if (err instanceof X509SvidError && (!best || best.code === 'ERR_X509_SVID_UNTRUSTED')) best = err
    else if (!(err instanceof SvidkitError)) throw err
  }
  const path: CertificateInfo[] = [leafInfo]
  const used = new Set<number>()

  // Each (child, issuer) pair is checked once, and the signature checks of one verification are
  // bounded: certificates that sign each other in loops would otherwise make the search exponential.
  const checked = new Map<X509Certificate, Map<X509Certificate, boolean>>()
  let signatureChecks = 0
  const tryIssuer = (child: X509Certificate, issuer: X509Certificate): boolean => {
    let known = checked.get(child)
    const hit = known?.get(issuer)
    if (hit !== undefined) return hit
    let ok: boolean
    // Name chaining, then the signature. Signer constraints (cA, keyCertSign) are checked after,
    // so a refusal names the precise rule instead of "unknown authority".
    if (child.issuer !== issuer.subject) ok = false
    else {
      if (++signatureChecks > MAX_CHAIN_SIGNATURE_CHECKS) {
        throw new X509SvidError(
          'ERR_X509_SVID_UNTRUSTED',
          `could not verify leaf certificate: gave up after ${MAX_CHAIN_SIGNATURE_CHECKS} signature checks`,
        )
      }
      try {
        ok = child.verify(issuer.publicKey)
      } catch {
        ok = false
      }
    }
    if (known === undefined) {
      known = new Map()
      checked.set(child, known)
    }
    known.set(issuer, ok)
    return ok
  }
  const acceptSigner = (info: CertificateInfo, what: string): void => {
    checkSigner(info, what)
    checkValidity(info, at, skewMs, what)
    // pathLenConstraint: intermediates strictly between this signer and the leaf.
    const below = path.length - 1
    if (info.pathLen !== undefined && below > info.pathLen) {
      throw new X509SvidError('ERR_X509_SVID_PATH_LENGTH', `${what} path length constraint exceeded`)
    }
    if (info.nameConstraints) checkNameConstraints(info, leafInfo, what)
  }
  let steps = 0
  const search = (child: X509Certificate): CertificateInfo[] | undefined => {
    if (++steps > MAX_PATH_SEARCH_STEPS) {
      throw new X509SvidError(
        'ERR_X509_SVID_UNTRUSTED',
        `could not verify leaf certificate: gave up after ${MAX_PATH_SEARCH_STEPS} candidate paths`,
      )
    }
    for (const root of roots) {
      if (!tryIssuer(child, root)) continue
      try {
        const info = certInfo(root, 'authority')
        acceptSigner(info, 'signing certificate')
        return [...path, info]
      } catch (err) {
        note(err)
      }
    }
    if (path.length >= maxPath - 1) return undefined
    for (let k = 0; k < intermediates.length; k++) {
      if (used.has(k)) continue
      const { cert, info } = intermediates[k]!
      if (!tryIssuer(child, cert)) continue
      try {
        acceptSigner(info, 'signing certificate')
      } catch (err) {
        note(err)
        continue
      }
      used.add(k)
      path.push(info)
      const found = search(cert)
      if (found) return found
      path.pop()
      used.delete(k)
    }
    return undefined
  }
  const verified = search(leaf)
  if (!verified) {
    throw (
      best ??
      new X509SvidError(
        'ERR_X509_SVID_UNTRUSTED',
        'could not verify leaf certificate: certificate signed by unknown authority',
      )
    )
  }
  let expires = Number.POSITIVE_INFINITY
  for (const info of verified) expires = Math.min(expires, info.notAfter)
  return Object.freeze({
    id,
    trustDomain: id.trustDomain,
    chain: Object.freeze(verified.map((i) => i.x509)),
    expiresAt: new Date(expires),
  })
}

function checkValidity(info: CertificateInfo, at: number, skewMs: number, what: string): void {
  if (at + skewMs < info.notBefore)
    throw new X509SvidError('ERR_X509_SVID_NOT_YET_VALID', `${what} is not yet valid`)
  if (at - skewMs > info.notAfter) throw new X509SvidError('ERR_X509_SVID_EXPIRED', `${what} has expired`)
}

function uriHost(uri: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri)
  if (!m) return undefined
  const authority = m[1]!.replace(/^[^@]*@/, '')
  return authority.replace(/:\d*$/, '').toLowerCase()
}

// RFC 5280 §4.2.1.10: a URI constraint is a host; a leading "." means any subdomain.
function hostMatches(host: string, constraint: string): boolean {
  const c = constraint.toLowerCase()
  if (c.startsWith('.')) return host.endsWith(c)
  return host === c
}

function dnsMatches(name: string, constraint: string): boolean {
  const n = name.toLowerCase()
  const c = constraint.toLowerCase().replace(/^\./, '')
  return n === c || n.endsWith(`.${c}`)
}

function checkNameConstraints(signer: CertificateInfo, leaf: CertificateInfo, what: string): void {
  const nc = signer.nameConstraints!
  const fail = (why: string): never => {
    throw new X509SvidError('ERR_X509_SVID_NAME_CONSTRAINTS', `${what} name constraints: ${why}`)
  }
  if (nc.unsupported) fail('unsupported name form in constraints')
  for (const uri of leaf.uris) {
    const host = uriHost(uri)
    if (host === undefined) fail('URI SAN has no host')
    if (nc.excludedUris.some((c) => hostMatches(host!, c))) fail(`URI SAN host "${host}" is excluded`)
    if (nc.permittedUris.length > 0 && !nc.permittedUris.some((c) => hostMatches(host!, c))) {
      fail(`URI SAN host "${host}" is not permitted`)
    }
  }
  for (const dns of leaf.dnsNames) {
    if (nc.excludedDns.some((c) => dnsMatches(dns, c))) fail(`DNS SAN "${dns}" is excluded`)
    if (nc.permittedDns.length > 0 && !nc.permittedDns.some((c) => dnsMatches(dns, c)))
      fail(`DNS SAN "${dns}" is not permitted`)
  }
}

// Candidate paths explored by one verification (see MAX_CHAIN_SIGNATURE_CHECKS).
const MAX_PATH_SEARCH_STEPS = 1024

function tooLarge(why: string): never {
  throw new X509SvidError('ERR_X509_SVID_TOO_LARGE', why)
}

function checkCount(n: number): void {
  if (n > MAX_CHAIN_CERTIFICATES) tooLarge(`chain holds more than ${MAX_CHAIN_CERTIFICATES} certificates`)
}

/**
 * @internal Turns any accepted chain input into certificate objects (leaf first). Refuses a chain of
 * more than {@link MAX_CHAIN_CERTIFICATES} certificates or {@link MAX_CHAIN_BYTES} bytes
 * (`ERR_X509_SVID_TOO_LARGE`) before parsing any certificate of it.
 */
export function normalizeChain(chain: CertificateChainInput): X509Certificate[] {
  if (typeof chain === 'string' || chain instanceof Uint8Array) {
    const size = typeof chain === 'string' ? chain.length : chain.byteLength
    if (size > MAX_CHAIN_BYTES) tooLarge(`chain is larger than ${MAX_CHAIN_BYTES} bytes`)
    if (typeof chain === 'string') checkCount(countPemCertificates(chain, MAX_CHAIN_CERTIFICATES))
  } else if (Array.isArray(chain)) checkCount(chain.length)
  try {
    if (typeof chain === 'string') {
      return decodePem(chain)
        .filter((b) => b.label === 'CERTIFICATE')
        .map((b) => toX509(b.der))
    }
    if (chain instanceof Uint8Array) {
      const ders = splitConcatenatedDer(chain)
      checkCount(ders.length)
      return ders.map((d) => toX509(d))
    }
    return chain.map((c) => toX509(c))
  } catch (cause) {
    if (cause instanceof X509SvidError) throw cause
    throw new X509SvidError('ERR_X509_SVID_MALFORMED', 'unable to parse certificate', { cause })
  }
}
