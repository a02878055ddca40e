import { SCHEME_PREFIX, splitSpiffeId, validateTrustDomainName } from './grammar.js'
import { SpiffeId } from './spiffe-id.js'

/**
 * Options for {@link TrustDomain.parse}.
 *
 * @example
 * ```ts
 * const options: TrustDomainParseOptions = { normalize: true }
 * TrustDomain.parse('Example.ORG', options).name // 'example.org'
 * ```
 */
export interface TrustDomainParseOptions {
  /** Lower-case the scheme and name before validating (java-spiffe / py-spiffe behaviour). Default `false`: reject. */
  normalize?: boolean
}

/**
 * A SPIFFE trust domain name, validated by SPIFFE-ID §2.1: lowercase `[a-z0-9.-_]`, at most 255 bytes.
 * Immutable; compare with {@link TrustDomain.equals} or by `name`.
 *
 * @example
 * ```ts
 * import { TrustDomain } from '@svidkit/core/spiffe-id'
 * const td = TrustDomain.parse('example.org')
 * td.toString()      // 'example.org'
 * td.idString()      // 'spiffe://example.org'
 * TrustDomain.parse('spiffe://example.org/ns/a').name // 'example.org'
 * ```
 */
export class TrustDomain {
  /** The bare name, e.g. `example.org`. */
  readonly name: string

  private constructor(name: string) {
    this.name = name
  }

  /**
   * Parses a trust domain from its bare name (`example.org`) or from any SPIFFE ID in it
   * (`spiffe://example.org` or `spiffe://example.org/a/b`). Throws `SpiffeIdError`.
   */
  static parse(input: string, options: TrustDomainParseOptions = {}): TrustDomain {
    if (typeof input !== 'string' || input.length === 0) {
      return validateAndWrap('') // throws ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING
    }
    if (input.includes(':/'))
      return new TrustDomain(splitSpiffeId(input, options.normalize === true).trustDomain)
    return validateAndWrap(options.normalize ? input.toLowerCase() : input)
  }

  /** Like {@link TrustDomain.parse} but returns `undefined` instead of throwing. */
  static tryParse(input: string, options: TrustDomainParseOptions = {}): TrustDomain | undefined {
    try {
      return TrustDomain.parse(input, options)
    } catch {
      return undefined
    }
  }

  /** The trust domain's own SPIFFE ID, `spiffe://<name>` (a root ID, valid as an ID but not as a leaf SVID). */
  id(): SpiffeId {
    return SpiffeId.fromSegments(this)
  }

  /** `spiffe://<name>`, the form used as a key in Workload API bundle maps. */
  idString(): string {
    return SCHEME_PREFIX + this.name
  }

  /** Value equality. */
  equals(other: TrustDomain | string): boolean {
    return typeof other === 'string' ? other === this.name : other.name === this.name
  }

  /** Orders trust domains by name: −1, 0 or 1. */
  compare(other: TrustDomain): number {
    return this.name < other.name ? -1 : this.name > other.name ? 1 : 0
  }

  toString(): string {
    return this.name
  }

  toJSON(): string {
    return this.name
  }

  /** @internal Used by SpiffeId once the name has been validated. */
  static fromValidated(name: string): TrustDomain {
    return new TrustDomain(name)
  }
}

function validateAndWrap(name: string): TrustDomain {
  validateTrustDomainName(name)
  return TrustDomain.fromValidated(name)
}
