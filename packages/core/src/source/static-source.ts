import type { AnyBundle } from '../bundle/bundle-set.js'
import { BundleSet } from '../bundle/bundle-set.js'
import type { JwtBundleSource, X509BundleSource } from '../bundle/bundle-source.js'
import type { JwtBundle } from '../bundle/jwt-bundle.js'
import type { SpiffeBundle } from '../bundle/spiffe-bundle.js'
import type { X509Bundle } from '../bundle/x509-bundle.js'
import { OptionsError, SourceError } from '../errors/domain-errors.js'
import { DEFAULT_MAX_TOKEN_BYTES, decodeJwtSvid, toJwtSvid } from '../jwt-svid/decode-jwt-svid.js'
import type { JwtSvid, JwtSvidParams, JwtSvidSource } from '../jwt-svid/jwt-svid.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { X509Svid, X509SvidSource } from '../x509-svid/x509-svid.js'
import { LiveSourceBase } from './live-source-base.js'
import { SourceEvents } from './source-events.js'

/**
 * A function that issues a JWT-SVID on demand (for example `TestCA.mintJwtSvid`).
 *
 * @example
 * ```ts
 * const mint: MintJwtSvid = (p) => ca.mintJwtSvid({ subject: '/web', audience: p.audience })
 * ```
 */
export type MintJwtSvid = (params: JwtSvidParams) => JwtSvid | string | Promise<JwtSvid | string>

/**
 * What a {@link StaticSource} serves. In {@link StaticSource.update}, every key that is present
 * replaces the current value (`svid: null` removes the SVID); absent keys keep theirs.
 *
 * @example
 * ```ts
 * const content: StaticSourceContent = { svid, bundles: ca.bundleSet(), jwtSvids: [token] }
 * source.update(content)
 * ```
 */
export interface StaticSourceContent {
  /** The workload's X.509-SVID, or `null` / `undefined` for a bundle-only source. */
  svid?: X509Svid | null | undefined
  /** Trust bundles: a set, one bundle, or a list (at most one per trust domain and kind). Copied. */
  bundles?: BundleSet | AnyBundle | Iterable<AnyBundle> | null | undefined
  /** Fixed JWT-SVIDs (objects or compact tokens); `fetchJwtSvid` picks the first that fits. */
  jwtSvids?: readonly (JwtSvid | string)[] | null | undefined
  /** Issues a JWT-SVID per `fetchJwtSvid` call; takes precedence over `jwtSvids`. */
  mintJwtSvid?: MintJwtSvid | null | undefined
}

/**
 * Options for the {@link StaticSource} constructor: its initial content.
 *
 * @example
 * ```ts
 * const source = new StaticSource({ bundles: X509Bundle.fromPem('example.org', caPem) } satisfies StaticSourceOptions)
 * ```
 */
export interface StaticSourceOptions extends StaticSourceContent {}

interface State {
  readonly svid: X509Svid | undefined
  readonly bundles: BundleSet
  readonly jwtSvids: readonly JwtSvid[]
  readonly mint: MintJwtSvid | undefined
}

/**
 * A source with fixed content, for tests and fixed deployments: an optional X.509-SVID, trust
 * bundles, and optional JWT-SVIDs (a list or a minting function). It has the same surface and
 * lifecycle as the Workload API sources, so code written against `X509SvidSource`,
 * `X509BundleSource`, `JwtBundleSource`, `JwtSvidSource` and `LiveSource` runs unchanged.
 *
 * `update()` swaps the content atomically and emits `update`; every update installs a new
 * `BundleSet` object, so caches keyed on bundle identity see the change. An SVID past its
 * `notAfter` is never served: `getX509Svid()` then throws `ERR_SOURCE_SVID_EXPIRED`.
 *
 * @example
 * ```ts
 * import { StaticSource } from '@svidkit/core/source'
 * import { TestCA } from '@svidkit/testing'
 *
 * const ca = await TestCA.create({ trustDomain: 'example.org' })
 * await using source = new StaticSource({
 *   svid: await ca.issueX509Svid({ id: '/web' }),
 *   bundles: ca.bundleSet(),
 *   mintJwtSvid: (p) => ca.mintJwtSvid({ subject: '/web', audience: p.audience }),
 * })
 * source.getX509Svid().id.toString() // 'spiffe://example.org/web'
 * source.update({ svid: await ca.issueX509Svid({ id: '/web' }) }) // emits 'update'
 * ```
 */
export class StaticSource
  extends LiveSourceBase
  implements X509SvidSource, X509BundleSource, JwtBundleSource, JwtSvidSource
{
  protected sourceEvents(): SourceEvents {
    return this.#events
  }

  protected isClosed(): boolean {
    return this.#closed
  }

  #state: State
  #closed = false
  readonly #events = new SourceEvents()

  constructor(options: StaticSourceOptions = {}) {
    super()
    if (typeof options !== 'object' || options === null) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'StaticSource options must be an object')
    }
    this.#state = build({ svid: undefined, bundles: new BundleSet(), jwtSvids: [], mint: undefined }, options)
  }

  /**
   * Replaces the content atomically (present keys only) and emits `update`. Invalid content throws
   * and leaves the source unchanged.
   *
   * @example
   * ```ts
   * source.update({ svid: rotated, bundles: ca.bundleSet() })
   * ```
   */
  update(content: StaticSourceContent): void {
    this.#assertOpen()
    if (typeof content !== 'object' || content === null) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'StaticSource.update expects an object')
    }
    this.#state = build(this.#state, content)
    this.#events.emitUpdate()
  }

  /** The current X.509-SVID; throws `ERR_SOURCE_NO_SVID` if there is none, `ERR_SOURCE_SVID_EXPIRED` once it has expired. */
  getX509Svid(): X509Svid {
    this.#assertOpen()
    const svid = this.#state.svid
    if (!svid) throw new SourceError('ERR_SOURCE_NO_SVID', 'no X.509-SVID available')
    if (svid.expiresAt.getTime() <= Date.now()) {
      throw new SourceError('ERR_SOURCE_SVID_EXPIRED', `X.509-SVID for "${svid.id}" has expired`)
    }
    return svid
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle | undefined {
    this.#assertOpen()
    return this.#state.bundles.getX509BundleForTrustDomain(trustDomain)
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle | undefined {
    this.#assertOpen()
    return this.#state.bundles.getJwtBundleForTrustDomain(trustDomain)
  }

  /** The SPIFFE bundle (X.509 + JWT parts) of a trust domain, as a bundle endpoint serves it. */
  getSpiffeBundleForTrustDomain(trustDomain: TrustDomain | string): SpiffeBundle | undefined {
    this.#assertOpen()
    return this.#state.bundles.getSpiffeBundle(trustDomain)
  }

  /** Every bundle held. A new object after each update: treat it as read-only. */
  get bundles(): BundleSet {
    this.#assertOpen()
    return this.#state.bundles
  }

  /**
   * A JWT-SVID for `params.audience` (and every extra audience): minted by `mintJwtSvid` when set,
   * else the first configured token that names those audiences (and `params.subject`, when given)
   * and has not expired.
   */
  async fetchJwtSvid(params: JwtSvidParams, options: { signal?: AbortSignal } = {}): Promise<JwtSvid> {
    this.#assertOpen()
    options.signal?.throwIfAborted()
    if (!params || typeof params.audience !== 'string' || params.audience.length === 0) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'a JWT-SVID needs a non-empty audience')
    }
    const { mint, jwtSvids } = this.#state
    const now = Date.now()
    if (mint) {
      const minted = await mint(params)
      const svid = typeof minted === 'string' ? decodeToken(minted) : minted
      if (svid.expiresAt.getTime() <= now) {
        throw new SourceError('ERR_SOURCE_SVID_EXPIRED', `minted JWT-SVID for "${svid.id}" has expired`)
      }
      return svid
    }
    if (jwtSvids.length === 0) throw new SourceError('ERR_SOURCE_NO_SVID', 'no JWT-SVIDs configured')
    const wanted = [params.audience, ...(params.extraAudiences ?? [])]
    const subject =
      params.subject === undefined
        ? undefined
        : typeof params.subject === 'string'
          ? SpiffeId.parse(params.subject)
          : params.subject
    const matching = jwtSvids.filter(
      (s) => wanted.every((a) => s.audience.includes(a)) && (!subject || s.id.equals(subject)),
    )
    const fresh = matching.find((s) => s.expiresAt.getTime() > now)
    if (fresh) return fresh
    if (matching.length > 0) {
      throw new SourceError(
        'ERR_SOURCE_SVID_EXPIRED',
        `JWT-SVID for audience "${params.audience}" has expired`,
      )
    }
    throw new SourceError('ERR_SOURCE_NO_SVID', `no JWT-SVID for audience "${params.audience}"`)
  }

  /** Open, and the SVID (if any) has not expired. */
  get healthy(): boolean {
    if (this.#closed) return false
    const svid = this.#state.svid
    return !svid || svid.expiresAt.getTime() > Date.now()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#events.close()
  }

  #assertOpen(): void {
    if (this.#closed) throw new SourceError('ERR_SOURCE_CLOSED', 'source is closed')
  }
}

function build(prev: State, content: StaticSourceContent): State {
  const has = (k: keyof StaticSourceContent): boolean => Object.hasOwn(content, k)
  let svid = prev.svid
  if (has('svid')) {
    const s = content.svid ?? undefined
    if (s !== undefined && (typeof s !== 'object' || !s.id || !Array.isArray(s.certificates))) {
      throw new OptionsError('ERR_OPTIONS_INVALID', '"svid" must be an X509Svid (see parseX509Svid)')
    }
    svid = s
  }
  // Always a fresh set, so downstream caches detect every update by identity.
  const bundles = has('bundles') ? toBundleSet(content.bundles ?? undefined) : copy(prev.bundles)
  let jwtSvids = prev.jwtSvids
  if (has('jwtSvids')) {
    const list = content.jwtSvids ?? []
    if (!Array.isArray(list)) throw new OptionsError('ERR_OPTIONS_INVALID', '"jwtSvids" must be an array')
    jwtSvids = Object.freeze(list.map((t) => (typeof t === 'string' ? decodeToken(t) : t)))
  }
  let mint = prev.mint
  if (has('mintJwtSvid')) {
    const m = content.mintJwtSvid ?? undefined
    if (m !== undefined && typeof m !== 'function') {
      throw new OptionsError('ERR_OPTIONS_INVALID', '"mintJwtSvid" must be a function')
    }
    mint = m
  }
  return Object.freeze({ svid, bundles, jwtSvids, mint })
}

/**
 * Reads a token's claims without checking its signature or its times: it is this workload's own
 * credential (configured or minted locally), like go-spiffe's `ParseInsecure` for agent-issued tokens.
 * Expiry is checked when the token is served.
 */
function decodeToken(token: string): JwtSvid {
  return toJwtSvid(decodeJwtSvid(token, DEFAULT_MAX_TOKEN_BYTES))
}

/** A new set holding the same bundle objects (an X.509-only trust domain stays X.509-only). */
function copy(set: BundleSet): BundleSet {
  const out = new BundleSet()
  for (const td of set.trustDomains()) {
    const x509 = set.getX509BundleForTrustDomain(td)
    const jwt = set.getJwtBundleForTrustDomain(td)
    const held = x509 && jwt ? set.getSpiffeBundle(td) : undefined
    if (held && held.x509Bundle() === x509 && held.jwtBundle() === jwt) out.add(held)
    else {
      if (x509) out.add(x509)
      if (jwt) out.add(jwt)
    }
  }
  return out
}

function toBundleSet(input: BundleSet | AnyBundle | Iterable<AnyBundle> | undefined): BundleSet {
  if (input === undefined) return new BundleSet()
  if (input instanceof BundleSet) return copy(input)
  if (typeof input === 'object' && 'trustDomain' in input) return new BundleSet([input as AnyBundle])
  if (typeof input !== 'object' || !(Symbol.iterator in input)) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      '"bundles" must be a BundleSet, a bundle or a list of bundles',
    )
  }
  const set = new BundleSet()
  for (const b of input) {
    if (!b || typeof b !== 'object' || !('trustDomain' in b)) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        '"bundles" must hold X509Bundle, JwtBundle or SpiffeBundle objects',
      )
    }
    set.add(b)
  }
  return set
}
