import { BundleSet } from '../bundle/bundle-set.js'
import type { JwtBundleSource, X509BundleSource } from '../bundle/bundle-source.js'
import type { JwtBundle } from '../bundle/jwt-bundle.js'
import type { X509Bundle } from '../bundle/x509-bundle.js'
import { OptionsError, type WorkloadApiError } from '../errors/domain-errors.js'
import { LiveSourceBase } from '../source/live-source-base.js'
import type { SourceEvents } from '../source/source-events.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import { mergeBundles, SourceCore, type WatchState, type WorkloadSourceOptions } from './source-core.js'

/**
 * Options for {@link BundleSource.create}.
 *
 * @example
 * ```ts
 * const options: BundleSourceOptions = { jwt: false, timeoutMs: 5000 } // X.509 bundles only
 * await using bundles = await BundleSource.create(options)
 * ```
 */
export interface BundleSourceOptions extends WorkloadSourceOptions {
  /** Stream X.509 bundles (`FetchX509Bundles`). Default `true`. */
  x509?: boolean | undefined
  /** Stream JWT bundles (`FetchJWTBundles`). Default `true`. */
  jwt?: boolean | undefined
}

/**
 * A live source of trust bundles for verifiers that have **no SVID of their own**: it streams
 * `FetchX509Bundles` and `FetchJWTBundles` — not `FetchX509SVID`, unlike go-spiffe's BundleSource,
 * which needs an identity (with SPIRE, a workload without one needs the agent's
 * `allow_unauthenticated_verifiers`). Implements {@link X509BundleSource}, {@link JwtBundleSource} and
 * {@link LiveSource}.
 *
 * Each message is the full state: trust domains missing from it are removed; a `PermissionDenied`
 * drops every bundle of that stream (§5.2.2, §6.2.2); the last bundles are kept while a stream is down.
 * A bundle object is replaced when (and only when) its content changes, so downstream caches can
 * detect changes by object identity.
 *
 * @example
 * ```ts
 * import { BundleSource } from '@svidkit/core/workload-api'
 * import { verifyX509Svid } from '@svidkit/core/x509-svid'
 * await using bundles = await BundleSource.create()
 * const { id } = verifyX509Svid(peerChain, bundles)
 * ```
 */
export class BundleSource extends LiveSourceBase implements X509BundleSource, JwtBundleSource {
  protected sourceEvents(): SourceEvents {
    return this.#core.events
  }

  protected isClosed(): boolean {
    return this.#core.closed
  }

  readonly #core: SourceCore
  readonly #x509: boolean
  readonly #jwt: boolean
  #x509Bundles = new Map<string, X509Bundle>()
  #jwtBundles = new Map<string, JwtBundle>()
  #bundleSet: BundleSet | undefined

  private constructor(options: BundleSourceOptions) {
    super()
    this.#x509 = options.x509 ?? true
    this.#jwt = options.jwt ?? true
    if (typeof this.#x509 !== 'boolean' || typeof this.#jwt !== 'boolean' || (!this.#x509 && !this.#jwt)) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'BundleSource: enable x509, jwt or both (booleans)')
    }
    this.#core = new SourceCore(options, 'BundleSource')
    this.#core.onSignalClose = () => this.close()
  }

  /**
   * Connects and resolves once every enabled stream has delivered its first bundles. Rejects like
   * `X509Source.create`.
   *
   * @example
   * ```ts
   * const bundles = await BundleSource.create({ address: 'unix:///run/spire/agent.sock', jwt: false })
   * ```
   */
  static async create(options: BundleSourceOptions = {}): Promise<BundleSource> {
    const source = new BundleSource(options)
    await source.#core.open(
      'bundles',
      () => {
        const { client } = source.#core
        if (source.#x509) {
          source.#core.startWatch('FetchX509Bundles', (state, { signal, backoff }) =>
            client.watchX509Bundles(
              {
                onUpdate: (set) => source.#apply(state, 'x509', set),
                onError: (err) => source.#error(state, 'x509', err),
              },
              { signal, ...(backoff ? { backoff } : {}) },
            ),
          )
        }
        if (source.#jwt) {
          source.#core.startWatch('FetchJWTBundles', (state, { signal, backoff }) =>
            client.watchJwtBundles(
              {
                onUpdate: (set) => source.#apply(state, 'jwt', set),
                onError: (err) => source.#error(state, 'jwt', err),
              },
              { signal, ...(backoff ? { backoff } : {}) },
            ),
          )
        }
      },
      () => source.#core.watches.every((w) => w.ready),
      () => undefined,
      () => source.close(),
    )
    return source
  }

  #apply(state: WatchState, kind: 'x509' | 'jwt', set: BundleSet): void {
    state.messages++
    state.up = true
    state.ready = true
    if (kind === 'x509') {
      this.#x509Bundles = mergeBundles(this.#x509Bundles, set, (s, td) => s.getX509BundleForTrustDomain(td))
    } else {
      this.#jwtBundles = mergeBundles(this.#jwtBundles, set, (s, td) => s.getJwtBundleForTrustDomain(td))
    }
    this.#bundleSet = undefined
    this.#core.events.emitUpdate()
    this.#core.changed()
  }

  #error(state: WatchState, kind: 'x509' | 'jwt', err: WorkloadApiError): void {
    if (err.code === 'ERR_WORKLOAD_API_MALFORMED_RESPONSE') state.messages++
    const denied = this.#core.watchError(state, err)
    const held = kind === 'x509' ? this.#x509Bundles : this.#jwtBundles
    if (denied && held.size > 0) {
      if (kind === 'x509') this.#x509Bundles = new Map()
      else this.#jwtBundles = new Map()
      this.#bundleSet = undefined
      this.#core.events.emitUpdate()
    }
  }

  /** The X.509 bundle of a trust domain, or `undefined`. */
  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle | undefined {
    this.#core.assertOpen()
    return this.#x509Bundles.get(trustDomain.name)
  }

  /** The JWT bundle of a trust domain, or `undefined`. */
  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle | undefined {
    this.#core.assertOpen()
    return this.#jwtBundles.get(trustDomain.name)
  }

  /** Every bundle held (X.509 and JWT parts per trust domain); a new object after each change. */
  get bundles(): BundleSet {
    this.#core.assertOpen()
    if (!this.#bundleSet) {
      const set = new BundleSet(this.#x509Bundles.values())
      for (const b of this.#jwtBundles.values()) set.add(b)
      this.#bundleSet = set
    }
    return this.#bundleSet
  }

  /** The trust domains with at least one bundle, sorted by name. */
  trustDomains(): TrustDomain[] {
    return this.bundles.trustDomains()
  }

  /** Whether every enabled stream is connected and holds bundles. */
  get healthy(): boolean {
    if (this.#core.closed || !this.#core.watchesUp) return false
    return (!this.#x509 || this.#x509Bundles.size > 0) && (!this.#jwt || this.#jwtBundles.size > 0)
  }

  /** Stops both watches, closes the client if the source created it. Idempotent. */
  close(): Promise<void> {
    return this.#core.close()
  }
}
