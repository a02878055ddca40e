import { fail, MAX_ID_BYTES, SCHEME_PREFIX, splitSpiffeId, validatePath, validateSegment } from './grammar.js'
import { TrustDomain } from './trust-domain.js'

/**
 * Options for {@link SpiffeId.parse}.
 *
 * @example
 * ```ts
 * const options: SpiffeIdParseOptions = { normalize: true }
 * SpiffeId.parse('SPIFFE://Example.org/Web', options).toString() // 'spiffe://example.org/Web'
 * ```
 */
export interface SpiffeIdParseOptions {
  /**
   * Lower-case the scheme and trust domain before validating (SPIFFE-ID §2.4 says they are
   * case-insensitive, §2.1 says the trust domain MUST be lowercase). Default `false`: reject
   * uppercase, as go-spiffe does. The path is always case-sensitive.
   */
  normalize?: boolean
}

/**
 * A SPIFFE ID, validated against every rule of SPIFFE-ID §2: `spiffe` scheme, a lowercase
 * `[a-z0-9.-_]` trust domain of at most 255 bytes, path segments of `[a-zA-Z0-9.-_]` with no empty,
 * `.` or `..` segment and no trailing slash, no query, fragment, port, userinfo or percent-encoding,
 * and at most 2048 bytes in all. Immutable.
 *
 * @example
 * ```ts
 * import { SpiffeId } from '@svidkit/core/spiffe-id'
 * const id = SpiffeId.parse('spiffe://example.org/ns/prod/sa/web')
 * id.trustDomain.name // 'example.org'
 * id.path             // '/ns/prod/sa/web'
 * id.segments         // ['ns', 'prod', 'sa', 'web']
 * id.memberOf('example.org') // true
 * SpiffeId.fromSegments('example.org', 'ns', 'prod').toString() // 'spiffe://example.org/ns/prod'
 * ```
 */
export class SpiffeId {
  /** The trust domain the ID belongs to. */
  readonly trustDomain: TrustDomain
  /** The path, `''` for a root ID or `/a/b` otherwise. */
  readonly path: string
  readonly #text: string
  #segments: readonly string[] | undefined

  private constructor(trustDomain: TrustDomain, path: string) {
    this.trustDomain = trustDomain
    this.path = path
    this.#text = SCHEME_PREFIX + trustDomain.name + path
  }

  /** Parses a SPIFFE ID string. Throws `SpiffeIdError` with a precise code. */
  static parse(input: string, options: SpiffeIdParseOptions = {}): SpiffeId {
    const { trustDomain, path } = splitSpiffeId(input, options.normalize === true)
    return new SpiffeId(TrustDomain.fromValidated(trustDomain), path)
  }

  /** Like {@link SpiffeId.parse} but returns `undefined` instead of throwing. */
  static tryParse(input: string, options: SpiffeIdParseOptions = {}): SpiffeId | undefined {
    try {
      return SpiffeId.parse(input, options)
    } catch {
      return undefined
    }
  }

  /** Builds an ID from a trust domain and path segments, each validated (no `/` inside a segment). */
  static fromSegments(trustDomain: TrustDomain | string, ...segments: string[]): SpiffeId {
    const td = typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain
    for (const s of segments) validateSegment(s)
    return SpiffeId.#checked(td, segments.length === 0 ? '' : `/${segments.join('/')}`)
  }

  /** Builds an ID from a trust domain and a path such as `/ns/prod` (leading slash required, or `''`). */
  static fromPath(trustDomain: TrustDomain | string, path: string): SpiffeId {
    const td = typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain
    validatePath(path)
    return SpiffeId.#checked(td, path)
  }

  static #checked(td: TrustDomain, path: string): SpiffeId {
    if (SCHEME_PREFIX.length + td.name.length + path.length > MAX_ID_BYTES) {
      fail('ERR_SPIFFE_ID_TOO_LONG', `SPIFFE ID is longer than ${MAX_ID_BYTES} bytes`)
    }
    return new SpiffeId(td, path)
  }

  /** The path segments, `[]` for a root ID. */
  get segments(): readonly string[] {
    this.#segments ??= Object.freeze(this.path === '' ? [] : this.path.slice(1).split('/'))
    return this.#segments
  }

  /** Whether this is a root ID (`spiffe://td`, no path). Root IDs are not valid leaf SVID IDs. */
  get isRoot(): boolean {
    return this.path === ''
  }

  /** Whether the ID belongs to `trustDomain`. */
  memberOf(trustDomain: TrustDomain | string): boolean {
    return this.trustDomain.equals(trustDomain)
  }

  /** A new ID with `segments` appended. */
  appendSegments(...segments: string[]): SpiffeId {
    for (const s of segments) validateSegment(s)
    return segments.length === 0
      ? this
      : SpiffeId.#checked(this.trustDomain, `${this.path}/${segments.join('/')}`)
  }

  /** A new ID with `path` (leading slash required) appended. */
  appendPath(path: string): SpiffeId {
    if (path === '') fail('ERR_SPIFFE_ID_PATH_LEADING_SLASH', 'path must have a leading slash')
    validatePath(path)
    return SpiffeId.#checked(this.trustDomain, this.path + path)
  }

  /** A new ID in the same trust domain with its path replaced. */
  replacePath(path: string): SpiffeId {
    return SpiffeId.fromPath(this.trustDomain, path)
  }

  /** Value equality. */
  equals(other: SpiffeId | string): boolean {
    return typeof other === 'string' ? other === this.#text : other.#text === this.#text
  }

  /** The canonical string, `spiffe://<td><path>`. */
  toString(): string {
    return this.#text
  }

  toJSON(): string {
    return this.#text
  }
}
