import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'

/**
 * A JWT signing key of a trust domain, imported once as a `KeyObject`.
 *
 * @example
 * ```ts
 * const authority: JwtAuthority = createJwtAuthority('key-1', jwk)
 * const bundle = new JwtBundle('example.org', [authority])
 * bundle.findAuthority('key-1')?.publicKey // a KeyObject
 * ```
 */
export interface JwtAuthority {
  /** The key ID tokens name in their `kid` header. */
  readonly kid: string
  /** The public key, ready for `node:crypto.verify`. */
  readonly publicKey: KeyObject
  /** The public JWK (private members, if any were present, are dropped). */
  readonly jwk: Readonly<JsonWebKey>
}

const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])

/** The JWK key types svidkit can import; other `kty` values are ignored, as the bundle spec requires. */
export const SUPPORTED_KTY: ReadonlySet<string> = new Set(['RSA', 'EC', 'OKP'])

/**
 * Imports a public JWK as a {@link JwtAuthority}. Throws a plain Error when the key is unusable; the
 * bundle parsers turn that into a `BundleError`.
 *
 * @example
 * ```ts
 * const authority = createJwtAuthority('key-1', { kty: 'EC', crv: 'P-256', x: '…', y: '…' })
 * ```
 */
export function createJwtAuthority(kid: string, jwk: JsonWebKey): JwtAuthority {
  if (typeof kid !== 'string' || kid.length === 0) throw new Error('keyID cannot be empty')
  const pub: JsonWebKey = {}
  for (const [k, v] of Object.entries(jwk)) if (!PRIVATE_MEMBERS.has(k)) pub[k] = v
  const publicKey = createPublicKey({ key: pub, format: 'jwk' })
  return Object.freeze({ kid, publicKey, jwk: Object.freeze(pub) })
}
