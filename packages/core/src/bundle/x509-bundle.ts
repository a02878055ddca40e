import type { X509Certificate } from 'node:crypto'
import { BundleError } from '../errors/domain-errors.js'
import { toX509 } from '../internal/certificate-info.js'
import { decodePem, encodePem, splitConcatenatedDer } from '../internal/pem.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { X509BundleSource } from './bundle-source.js'

/**
 * The X.509 authorities (CA certificates) of one trust domain. Also an {@link X509BundleSource} that
 * answers only for its own trust domain. An empty bundle trusts nothing.
 *
 * @example
 * ```ts
 * import { X509Bundle } from '@svidkit/core/bundle'
 * const bundle = X509Bundle.fromPem('example.org', readFileSync('bundle.pem', 'utf8'))
 * bundle.authorities.length // number of CA certificates
 * ```
 */
export class X509Bundle implements X509BundleSource {
  readonly trustDomain: TrustDomain
  readonly authorities: readonly X509Certificate[]

  constructor(
    trustDomain: TrustDomain | string,
    authorities: Iterable<X509Certificate | Uint8Array | string>,
  ) {
    this.trustDomain = typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain
    const list: X509Certificate[] = []
    const seen = new Set<string>()
    let n = 0
    for (const a of authorities) {
      let cert: X509Certificate
      try {
        cert = toX509(a)
      } catch (cause) {
        throw new BundleError(
          'ERR_BUNDLE_AUTHORITY_INVALID',
          `X.509 authority ${n} is not a valid certificate`,
          {
            cause,
          },
        )
      }
      n++
      if (seen.has(cert.fingerprint256)) continue
      seen.add(cert.fingerprint256)
      list.push(cert)
    }
    this.authorities = Object.freeze(list)
  }

  /** Parses the `CERTIFICATE` blocks of a PEM document. A document with none is malformed. */
  static fromPem(trustDomain: TrustDomain | string, pem: string | Uint8Array): X509Bundle {
    const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8')
    let blocks: ReturnType<typeof decodePem>
    try {
      blocks = decodePem(text).filter((b) => b.label === 'CERTIFICATE')
    } catch (cause) {
      throw new BundleError('ERR_BUNDLE_MALFORMED', 'PEM bundle is not valid PEM', { cause })
    }
    if (blocks.length === 0)
      throw new BundleError('ERR_BUNDLE_MALFORMED', 'PEM bundle contains no certificates')
    return new X509Bundle(
      trustDomain,
      blocks.map((b) => b.der),
    )
  }

  /** Parses concatenated DER certificates, as carried by the Workload API. Empty input is an empty bundle. */
  static fromDer(trustDomain: TrustDomain | string, der: Uint8Array): X509Bundle {
    let parts: Buffer[]
    try {
      parts = splitConcatenatedDer(der)
    } catch (cause) {
      throw new BundleError('ERR_BUNDLE_MALFORMED', 'X.509 bundle is not concatenated DER certificates', {
        cause,
      })
    }
    return new X509Bundle(trustDomain, parts)
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle | undefined {
    return trustDomain.name === this.trustDomain.name ? this : undefined
  }

  /** Whether the bundle holds no authority (and so trusts nothing). */
  get isEmpty(): boolean {
    return this.authorities.length === 0
  }

  /** Whether `cert` is one of the authorities (compared by SHA-256 fingerprint). */
  hasAuthority(cert: X509Certificate): boolean {
    return this.authorities.some((a) => a.fingerprint256 === cert.fingerprint256)
  }

  /** The authorities as PEM. */
  toPem(): string {
    return this.authorities.map((a) => encodePem('CERTIFICATE', a.raw)).join('')
  }

  /** The authorities as concatenated DER. */
  toDer(): Buffer {
    return Buffer.concat(this.authorities.map((a) => a.raw))
  }

  /** Same trust domain and the same set of authorities. */
  equals(other: X509Bundle): boolean {
    if (!this.trustDomain.equals(other.trustDomain) || this.authorities.length !== other.authorities.length)
      return false
    return this.authorities.every((a) => other.hasAuthority(a))
  }
}
