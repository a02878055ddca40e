import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { BundleError } from '../errors/domain-errors.js'

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
 * Imports a public JWK as a {@link JwtAuthority}. Throws `BundleError` (`ERR_BUNDLE_AUTHORITY_INVALID`)
 * for an empty key ID or an unusable key.
 *
 * @example
 * ```ts
 * const authority = createJwtAuthority('key-1', { kty: 'EC', crv: 'P-256', x: '…', y: '…' })
 * ```
 */
export function createJwtAuthority(kid: string, jwk: JsonWebKey): JwtAuthority {
  if (typeof kid !== 'string' || kid.length === 0) {
    throw new BundleError('ERR_BUNDLE_AUTHORITY_INVALID', 'JWT authority keyID cannot be empty')
  }
  const pub: JsonWebKey = {}
  for (const [k, v] of Object.entries(jwk)) if (!PRIVATE_MEMBERS.has(k)) pub[k] = v
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({ key: pub, format: 'jwk' })
  } catch (cause) {
    throw new BundleError(
      'ERR_BUNDLE_AUTHORITY_INVALID',
      `JWT authority "${kid.slice(0, 64)}" is not a usable public key`,
      {
        cause,
      },
    )
  }
  return Object.freeze({ kid, publicKey, jwk: Object.freeze(pub) })
}
