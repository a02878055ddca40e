import { BundleSet } from '../bundle/bundle-set.js'
import type { JwtBundleSource } from '../bundle/bundle-source.js'
import type { JwtBundle } from '../bundle/jwt-bundle.js'
import { OptionsError, type WorkloadApiError } from '../errors/domain-errors.js'
import type { JwtSvid, JwtSvidParams, JwtSvidSource } from '../jwt-svid/jwt-svid.js'
import { LiveSourceBase } from '../source/live-source-base.js'
import type { SourceEvents } from '../source/source-events.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import { abortedError } from './grpc-status.js'
import { mergeBundles, SourceCore, type WatchState, type WorkloadSourceOptions } from './source-core.js'

/**
 * Options for {@link JwtSource.create}.
 *
 * @example
 * ```ts
 * const options: JwtSourceOptions = { address: 'unix:///run/spire/agent.sock', cacheSize: 10 }
 * await using source = await JwtSource.create(options)
 * ```
 */
export interface JwtSourceOptions extends WorkloadSourceOptions {
  /** How many JWT-SVIDs (distinct audience + subject) to keep. Default 100. */
  cacheSize?: number | undefined
}

interface CacheEntry {
  readonly svid: JwtSvid
  /** Past this instant a read triggers a background refresh (half the lifetime). */
  readonly refreshAt: number
  /** Past this instant the token is no longer handed out; a read waits for a new one (90 % of the lifetime). */
  readonly staleAt: number
}

/**
 * A live JWT source on the Workload API (go-spiffe `workloadapi.JWTSource`, plus caching): JWT-SVIDs
 * fetched per audience (`FetchJWTSVID`) and the JWT bundles streamed by `FetchJWTBundles`. Implements
 * {@link JwtSvidSource}, {@link JwtBundleSource} (so it can feed `verifyJwtSvid`) and {@link LiveSource}.
 *
 * **JWT-SVID caching** (refresh-on-read, no timers): a token is cached per audience list + subject.
 * - Before half its lifetime (`iat` → `exp`; the fetch time when there is no `iat`), it is returned as is.
 * - Between half and 90 % of its lifetime, it is still returned at once and a refresh starts in the
 *   background; the next read gets the new token. A failed background refresh emits `error` and keeps
 *   the old token.
 * - Past 90 % of its lifetime (or when expired), a read waits for a new token.
 * Concurrent reads of the same key share one in-flight fetch (single flight); aborting one caller's
 * signal does not cancel the fetch for the others.
 *
 * The bundle stream follows the usual rules: full state per message, trust domains missing from a
 * message are dropped, `PermissionDenied` drops every bundle (and the cached tokens); the last bundles
 * are kept while the stream is down.
 *
 * @example
 * ```ts
 * import { JwtSource } from '@svidkit/core/workload-api'
 * import { verifyJwtSvid } from '@svidkit/core/jwt-svid'
 * await using source = await JwtSource.create()
 * const { token } = await source.fetchJwtSvid({ audience: 'spiffe://example.org/orders' })
 * await fetch(url, { headers: { authorization: `Bearer ${token}` } })
 * // and on the receiving side:
 * verifyJwtSvid(incoming, source, { audience: 'spiffe://example.org/orders' })
 * ```
 */
export class JwtSource extends LiveSourceBase implements JwtSvidSource, JwtBundleSource {
  protected sourceEvents(): SourceEvents {
    return this.#core.events
  }

  protected isClosed(): boolean {
    return this.#core.closed
  }

  readonly #core: SourceCore
  readonly #cacheSize: number
  readonly #cache = new Map<string, CacheEntry>()
  readonly #inflight = new Map<string, Promise<JwtSvid>>()
  #bundles = new Map<string, JwtBundle>()
  #bundleSet: BundleSet | undefined

  private constructor(options: JwtSourceOptions) {
    super()
    const size = options.cacheSize ?? 100
    if (!Number.isInteger(size) || size < 0) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'JwtSource: cacheSize must be a non-negative integer')
    }
    this.#cacheSize = size
    this.#core = new SourceCore(options, 'JwtSource')
    this.#core.onSignalClose = () => this.close()
  }

  /**
   * Connects and resolves after the first JWT bundles message. Rejects like `X509Source.create`.
   *
   * @example
   * ```ts
   * const source = await JwtSource.create({ address: 'unix:///run/spire/agent.sock', timeoutMs: 5000 })
   * ```
   */
  static async create(options: JwtSourceOptions = {}): Promise<JwtSource> {
    const source = new JwtSource(options)
    await source.#core.open(
      'JWT bundles',
      () => {
        source.#core.startWatch('FetchJWTBundles', (state, { signal, backoff }) =>
          source.#core.client.watchJwtBundles(
            {
              onUpdate: (set) => source.#apply(state, set),
              onError: (err) => source.#error(state, err),
            },
            { signal, ...(backoff ? { backoff } : {}) },
          ),
        )
      },
      () => source.#core.watches.every((w) => w.ready),
      () => undefined,
      () => source.close(),
    )
    return source
  }

  #apply(state: WatchState, set: BundleSet): void {
    state.messages++
    state.up = true
    state.ready = true
    this.#bundles = mergeBundles(this.#bundles, set, (s, td) => s.getJwtBundleForTrustDomain(td))
    this.#bundleSet = undefined
    this.#core.events.emitUpdate()
    this.#core.changed()
  }

  #error(state: WatchState, err: WorkloadApiError): void {
    if (err.code === 'ERR_WORKLOAD_API_MALFORMED_RESPONSE') state.messages++
    const denied = this.#core.watchError(state, err)
    if (denied && (this.#bundles.size > 0 || this.#cache.size > 0)) {
      this.#bundles = new Map()
      this.#bundleSet = undefined
      this.#cache.clear()
      this.#core.events.emitUpdate()
    }
  }

  /**
   * A JWT-SVID for `params` (cached; see the class notes). `subject` picks one of the workload's
   * identities; default: the agent's default (first).
   *
   * @throws SourceError `ERR_SOURCE_CLOSED`; WorkloadApiError from the fetch (e.g. `ERR_WORKLOAD_API_PERMISSION_DENIED`)
   */
  async fetchJwtSvid(params: JwtSvidParams, options: { signal?: AbortSignal } = {}): Promise<JwtSvid> {
    this.#core.assertOpen()
    const key = cacheKey(params)
    const now = Date.now()
    const hit = this.#cache.get(key)
    if (hit && now < hit.refreshAt) return hit.svid
    if (hit && now < hit.staleAt) {
      this.#refresh(key, params).catch((err: WorkloadApiError) => {
        if (!this.#core.closed) this.#core.events.emitError(err)
      })
      return hit.svid
    }
    try {
      return await raceSignal(this.#refresh(key, params), options.signal)
    } catch (err) {
      this.#core.assertOpen() // closed meanwhile: ERR_SOURCE_CLOSED rather than "aborted"
      throw err
    }
  }

  /** Every JWT-SVID the agent returns for `params` (one per identity without `subject`). Not cached. */
  fetchJwtSvids(params: JwtSvidParams, options: { signal?: AbortSignal } = {}): Promise<readonly JwtSvid[]> {
    this.#core.assertOpen()
    return this.#core.client.fetchJwtSvids(params, { signal: anySignal(this.#core.signal, options.signal) })
  }

  #refresh(key: string, params: JwtSvidParams): Promise<JwtSvid> {
    const running = this.#inflight.get(key)
    if (running) return running
    const fetchedAt = Date.now()
    const p = this.#core.client
      .fetchJwtSvid(params, { signal: this.#core.signal })
      .then((svid) => {
        if (this.#core.closed) return svid
        const exp = svid.expiresAt.getTime()
        const iat = Math.min(svid.issuedAt?.getTime() ?? fetchedAt, exp)
        const life = exp - iat
        this.#cache.delete(key)
        if (this.#cacheSize > 0) {
          this.#cache.set(key, { svid, refreshAt: iat + life / 2, staleAt: iat + life * 0.9 })
          this.#evict()
        }
        return svid
      })
      .finally(() => {
        this.#inflight.delete(key)
      })
    this.#inflight.set(key, p)
    return p
  }

  #evict(): void {
    const now = Date.now()
    for (const [k, e] of this.#cache) if (e.svid.expiresAt.getTime() <= now) this.#cache.delete(k)
    while (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next().value
      if (oldest === undefined) break
      this.#cache.delete(oldest)
    }
  }

  /** The JWT bundle of a trust domain, or `undefined`. */
  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle | undefined {
    this.#core.assertOpen()
    return this.#bundles.get(trustDomain.name)
  }

  /** The current JWT bundles as a set; a new object after each change. */
  get bundles(): BundleSet {
    this.#core.assertOpen()
    this.#bundleSet ??= new BundleSet(this.#bundles.values())
    return this.#bundleSet
  }

  /** Whether the bundle stream is connected and holds bundles. */
  get healthy(): boolean {
    return !this.#core.closed && this.#core.watchesUp && this.#bundles.size > 0
  }

  /** Stops the bundle watch and pending fetches, drops the cache. Idempotent. */
  async close(): Promise<void> {
    await this.#core.close()
    this.#cache.clear()
    await Promise.allSettled([...this.#inflight.values()])
  }
}

function cacheKey(params: JwtSvidParams): string {
  if (typeof params !== 'object' || params === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'JWT-SVID params must be an object')
  }
  const subject =
    params.subject === undefined
      ? ''
      : params.subject instanceof SpiffeId
        ? params.subject.toString()
        : String(params.subject)
  return JSON.stringify([subject, params.audience, ...(params.extraAudiences ?? [])])
}

function raceSignal<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p
  if (signal.aborted) return Promise.reject(abortedError('FetchJWTSVID', signal))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError('FetchJWTSVID', signal))
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

function anySignal(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  return b ? AbortSignal.any([a, b]) : a
}
