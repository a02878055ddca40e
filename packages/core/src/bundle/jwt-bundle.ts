import type { JsonWebKey, KeyObject } from 'node:crypto'
import { BundleError } from '../errors/domain-errors.js'
import { isJsonObject, parseJsonStrict, type StrictJson } from '../internal/parse-json-strict.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { JwtBundleSource } from './bundle-source.js'
import { createJwtAuthority, type JwtAuthority, SUPPORTED_KTY } from './jwt-authority.js'

/**
 * The JWT authorities (public keys by `kid`) of one trust domain. Also a {@link JwtBundleSource}
 * that answers only for its own trust domain.
 *
 * @example
 * ```ts
 * import { JwtBundle } from '@svidkit/core/bundle'
 * const bundle = JwtBundle.fromJwks('example.org', '{"keys":[{"kty":"EC","kid":"k1","crv":"P-256","x":"…","y":"…"}]}')
 * bundle.findAuthority('k1')?.publicKey
 * ```
 */
export class JwtBundle implements JwtBundleSource {
  readonly trustDomain: TrustDomain
  readonly authorities: ReadonlyMap<string, JwtAuthority>

  constructor(trustDomain: TrustDomain | string, authorities: Iterable<JwtAuthority>) {
    this.trustDomain = typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain
    const map = new Map<string, JwtAuthority>()
    for (const a of authorities) {
      if (map.has(a.kid))
        throw new BundleError('ERR_BUNDLE_AUTHORITY_INVALID', `duplicate JWT authority "${a.kid}"`)
      map.set(a.kid, a)
    }
    this.authorities = map
  }

  /** Builds a bundle from `kid → public key` pairs (JWKs or KeyObjects). */
  static fromKeys(
    trustDomain: TrustDomain | string,
    keys: Record<string, JsonWebKey | KeyObject>,
  ): JwtBundle {
    return new JwtBundle(
      trustDomain,
      Object.entries(keys).map(([kid, key]) =>
        createJwtAuthority(
          kid,
          'export' in key && typeof key.export === 'function'
            ? (key as KeyObject).export({ format: 'jwk' })
            : (key as JsonWebKey),
        ),
      ),
    )
  }

  /**
   * Parses a JWKS document as served by the Workload API's `FetchJWTBundles` (every key is a JWT
   * authority, whatever its `use`). Keys with an unknown `kty` are ignored; a key without `kid` is an error.
   */
  static fromJwks(trustDomain: TrustDomain | string, jwks: string | Uint8Array): JwtBundle {
    const text = typeof jwks === 'string' ? jwks : Buffer.from(jwks).toString('utf8')
    let doc: StrictJson
    try {
      doc = parseJsonStrict(text)
    } catch (cause) {
      throw new BundleError('ERR_BUNDLE_MALFORMED', 'JWKS is not valid JSON', { cause })
    }
    if (!isJsonObject(doc) || !Array.isArray(doc.keys)) {
      throw new BundleError('ERR_BUNDLE_MALFORMED', 'JWKS must be an object with a "keys" array')
    }
    const authorities: JwtAuthority[] = []
    doc.keys.forEach((key, i) => {
      const a = importJwtKey(key, i, 'JWKS')
      if (a) authorities.push(a)
    })
    return new JwtBundle(trustDomain, authorities)
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle | undefined {
    return trustDomain.name === this.trustDomain.name ? this : undefined
  }

  /** The authority for `kid`, or `undefined`. */
  findAuthority(kid: string): JwtAuthority | undefined {
    return this.authorities.get(kid)
  }

  /** Whether the bundle holds no authority (and so trusts no JWT-SVID). */
  get isEmpty(): boolean {
    return this.authorities.size === 0
  }

  /** A plain JWKS (`{"keys":[…]}` with `kid` on every key). */
  toJwks(): { keys: JsonWebKey[] } {
    return { keys: [...this.authorities.values()].map((a) => ({ ...a.jwk, kid: a.kid })) }
  }

  /** Same trust domain and the same keys by `kid`. */
  equals(other: JwtBundle): boolean {
    if (!this.trustDomain.equals(other.trustDomain) || this.authorities.size !== other.authorities.size)
      return false
    for (const [kid, a] of this.authorities) {
      const b = other.authorities.get(kid)
      if (!b || !a.publicKey.equals(b.publicKey)) return false
    }
    return true
  }
}

/** @internal Imports one JWK of a JWKS / SPIFFE bundle; `undefined` when it must be ignored. */
export function importJwtKey(
  key: StrictJson | undefined,
  index: number,
  what: string,
): JwtAuthority | undefined {
  if (!isJsonObject(key))
    throw new BundleError('ERR_BUNDLE_MALFORMED', `${what} key ${index} is not an object`)
  if (typeof key.kty !== 'string' || !SUPPORTED_KTY.has(key.kty)) return undefined
  const kid = key.kid
  if (typeof kid !== 'string' || kid.length === 0) {
    throw new BundleError(
      'ERR_BUNDLE_AUTHORITY_INVALID',
      `error adding authority ${index} of ${what}: keyID cannot be empty`,
    )
  }
  try {
    return createJwtAuthority(kid, key as unknown as JsonWebKey)
  } catch (cause) {
    throw new BundleError(
      'ERR_BUNDLE_AUTHORITY_INVALID',
      `error adding authority ${index} of ${what}: key is not usable`,
      {
        cause,
      },
    )
  }
}
