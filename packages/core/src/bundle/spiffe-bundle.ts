import type { JsonWebKey, X509Certificate } from 'node:crypto'
import { BundleError } from '../errors/domain-errors.js'
import { isJsonObject, parseJsonStrict, type StrictJson } from '../internal/parse-json-strict.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { JwtBundleSource, X509BundleSource } from './bundle-source.js'
import type { JwtAuthority } from './jwt-authority.js'
import { importJwtKey, JwtBundle } from './jwt-bundle.js'
import { X509Bundle } from './x509-bundle.js'

/**
 * Parts of a {@link SpiffeBundle}.
 *
 * @example
 * ```ts
 * const init: SpiffeBundleInit = { x509Authorities: [caPem], jwtAuthorities: [authority], refreshHintSeconds: 300, sequenceNumber: 1n }
 * const bundle = new SpiffeBundle('example.org', init)
 * ```
 */
export interface SpiffeBundleInit {
  x509Authorities?: Iterable<X509Certificate | Uint8Array | string>
  jwtAuthorities?: Iterable<JwtAuthority>
  /** `spiffe_refresh_hint`, in seconds. */
  refreshHintSeconds?: number | undefined
  /** `spiffe_sequence`, kept exact as a bigint. */
  sequenceNumber?: bigint | undefined
}

/**
 * A trust domain's bundle in the SPIFFE bundle format (Trust Domain and Bundle §4): X.509 and JWT
 * authorities plus `spiffe_refresh_hint` and `spiffe_sequence`. Implements both bundle source
 * interfaces for its own trust domain.
 *
 * Parsing follows the spec, which is more lenient than go-spiffe where the spec says "ignore":
 * unknown `kty`/`use` entries are ignored; an `x509-svid` entry with no `x5c` is ignored and only the
 * first `x5c` value is used; an empty `keys` array means the trust domain is trusted for nothing.
 * `spiffe_sequence` stays exact beyond 2^53.
 *
 * @example
 * ```ts
 * import { SpiffeBundle } from '@svidkit/core/bundle'
 * const bundle = SpiffeBundle.parse('example.org', readFileSync('bundle.json', 'utf8'))
 * bundle.sequenceNumber // 12n
 * bundle.x509Bundle().authorities.length
 * bundle.toJson()       // the SPIFFE bundle document again
 * ```
 */
export class SpiffeBundle implements X509BundleSource, JwtBundleSource {
  readonly trustDomain: TrustDomain
  readonly refreshHintSeconds: number | undefined
  readonly sequenceNumber: bigint | undefined
  readonly #x509: X509Bundle
  readonly #jwt: JwtBundle

  constructor(trustDomain: TrustDomain | string, init: SpiffeBundleInit = {}) {
    this.trustDomain = typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain
    this.#x509 = new X509Bundle(this.trustDomain, init.x509Authorities ?? [])
    this.#jwt = new JwtBundle(this.trustDomain, init.jwtAuthorities ?? [])
    this.refreshHintSeconds = init.refreshHintSeconds
    this.sequenceNumber = init.sequenceNumber
  }

  /** Joins an X.509 bundle and a JWT bundle of the same trust domain. */
  static from(parts: {
    x509?: X509Bundle
    jwt?: JwtBundle
    refreshHintSeconds?: number
    sequenceNumber?: bigint
  }): SpiffeBundle {
    const td = parts.x509?.trustDomain ?? parts.jwt?.trustDomain
    if (!td) throw new BundleError('ERR_BUNDLE_MALFORMED', 'a bundle needs an X.509 or a JWT part')
    if (parts.x509 && parts.jwt && !parts.x509.trustDomain.equals(parts.jwt.trustDomain)) {
      throw new BundleError(
        'ERR_BUNDLE_TRUST_DOMAIN_MISMATCH',
        'bundles of different trust domains are never merged',
      )
    }
    return new SpiffeBundle(td, {
      x509Authorities: parts.x509?.authorities ?? [],
      jwtAuthorities: parts.jwt?.authorities.values() ?? [],
      refreshHintSeconds: parts.refreshHintSeconds,
      sequenceNumber: parts.sequenceNumber,
    })
  }

  /** Parses a SPIFFE bundle document (a JWKS with `use` = `x509-svid` / `jwt-svid`). */
  static parse(trustDomain: TrustDomain | string, json: string | Uint8Array): SpiffeBundle {
    const text = typeof json === 'string' ? json : Buffer.from(json).toString('utf8')
    let doc: StrictJson
    try {
      doc = parseJsonStrict(text)
    } catch (cause) {
      throw new BundleError('ERR_BUNDLE_MALFORMED', 'SPIFFE bundle is not valid JSON', { cause })
    }
    return SpiffeBundle.fromDocument(trustDomain, doc)
  }

  /** @internal Builds a bundle from an already parsed document (used by bundle maps). */
  static fromDocument(trustDomain: TrustDomain | string, doc: StrictJson): SpiffeBundle {
    if (!isJsonObject(doc))
      throw new BundleError('ERR_BUNDLE_MALFORMED', 'SPIFFE bundle must be a JSON object')
    if (!Array.isArray(doc.keys))
      throw new BundleError('ERR_BUNDLE_MALFORMED', 'SPIFFE bundle has no "keys" array')
    const x509Authorities: Buffer[] = []
    const jwtAuthorities: JwtAuthority[] = []
    doc.keys.forEach((key, i) => {
      if (!isJsonObject(key))
        throw new BundleError('ERR_BUNDLE_MALFORMED', `SPIFFE bundle key ${i} is not an object`)
      if (key.use === 'x509-svid') {
        const x5c = key.x5c
        if (x5c === undefined || (Array.isArray(x5c) && x5c.length === 0)) return
        const first = Array.isArray(x5c) ? x5c[0] : undefined
        if (typeof first !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(first)) {
          throw new BundleError('ERR_BUNDLE_AUTHORITY_INVALID', `x509-svid entry ${i} has an invalid "x5c"`)
        }
        x509Authorities.push(Buffer.from(first, 'base64'))
      } else if (key.use === 'jwt-svid') {
        const a = importJwtKey(key, i, 'JWKS')
        if (a) jwtAuthorities.push(a)
      }
      // Any other (or missing) `use` is ignored, as the spec requires.
    })
    return new SpiffeBundle(trustDomain, {
      x509Authorities,
      jwtAuthorities,
      refreshHintSeconds: readRefreshHint(doc.spiffe_refresh_hint),
      sequenceNumber: readSequence(doc.spiffe_sequence),
    })
  }

  /** The X.509 part of the bundle. */
  x509Bundle(): X509Bundle {
    return this.#x509
  }

  /** The JWT part of the bundle. */
  jwtBundle(): JwtBundle {
    return this.#jwt
  }

  /** The X.509 authorities. */
  get x509Authorities(): readonly X509Certificate[] {
    return this.#x509.authorities
  }

  /** The JWT authorities by `kid`. */
  get jwtAuthorities(): ReadonlyMap<string, JwtAuthority> {
    return this.#jwt.authorities
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle | undefined {
    return this.#x509.getX509BundleForTrustDomain(trustDomain)
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle | undefined {
    return this.#jwt.getJwtBundleForTrustDomain(trustDomain)
  }

  /** The SPIFFE bundle document as a plain object (`spiffe_sequence` as a number when safe, else a string). */
  toDocument(): { keys: JsonWebKey[]; spiffe_refresh_hint?: number; spiffe_sequence?: number | string } {
    const keys: JsonWebKey[] = []
    for (const cert of this.#x509.authorities) {
      const jwk = cert.publicKey.export({ format: 'jwk' })
      keys.push({ use: 'x509-svid', ...jwk, x5c: [cert.raw.toString('base64')] })
    }
    for (const a of this.#jwt.authorities.values()) keys.push({ use: 'jwt-svid', ...a.jwk, kid: a.kid })
    const doc: { keys: JsonWebKey[]; spiffe_refresh_hint?: number; spiffe_sequence?: number | string } = {
      keys,
    }
    if (this.refreshHintSeconds !== undefined) doc.spiffe_refresh_hint = this.refreshHintSeconds
    if (this.sequenceNumber !== undefined) {
      doc.spiffe_sequence =
        this.sequenceNumber <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(this.sequenceNumber)
          : this.sequenceNumber.toString()
    }
    return doc
  }

  /** The SPIFFE bundle document as JSON text; `spiffe_sequence` is written as an exact integer. */
  toJson(): string {
    const doc = this.toDocument()
    const text = JSON.stringify(doc)
    // An unsafe sequence number was carried as a string; write it back as a bare integer.
    return typeof doc.spiffe_sequence === 'string'
      ? text.replace(`"spiffe_sequence":"${doc.spiffe_sequence}"`, `"spiffe_sequence":${doc.spiffe_sequence}`)
      : text
  }

  /** Same trust domain, authorities, refresh hint and sequence number. */
  equals(other: SpiffeBundle): boolean {
    return (
      this.#x509.equals(other.#x509) &&
      this.#jwt.equals(other.#jwt) &&
      this.refreshHintSeconds === other.refreshHintSeconds &&
      this.sequenceNumber === other.sequenceNumber
    )
  }
}

function readRefreshHint(v: StrictJson | undefined): number | undefined {
  if (v === undefined) return undefined
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v
  if (typeof v === 'bigint' && v >= 0n) return Number.MAX_SAFE_INTEGER
  throw new BundleError(
    'ERR_BUNDLE_MALFORMED',
    '"spiffe_refresh_hint" must be a non-negative integer number of seconds',
  )
}

function readSequence(v: StrictJson | undefined): bigint | undefined {
  if (v === undefined) return undefined
  if (typeof v === 'bigint' && v >= 0n && v < 2n ** 64n) return v
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v)
  throw new BundleError('ERR_BUNDLE_MALFORMED', '"spiffe_sequence" must be a non-negative 64-bit integer')
}
