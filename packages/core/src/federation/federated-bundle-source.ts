import { BundleSet } from '../bundle/bundle-set.js'
import type { JwtBundleSource, X509BundleSource } from '../bundle/bundle-source.js'
import type { JwtBundle } from '../bundle/jwt-bundle.js'
import { SpiffeBundle } from '../bundle/spiffe-bundle.js'
import { X509Bundle } from '../bundle/x509-bundle.js'
import { FederationError, OptionsError, SourceError } from '../errors/domain-errors.js'
import { LiveSourceBase } from '../source/live-source-base.js'
import { SourceEvents } from '../source/source-events.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import { fetchFromEndpoint } from './fetch-bundle.js'
import { type BundleEndpointOptions, type ResolvedEndpoint, resolveEndpoint } from './resolve-endpoint.js'

/**
 * One federation relationship polled by a {@link FederatedBundleSource}.
 *
 * @example
 * ```ts
 * const partner: FederationEndpoint = {
 *   trustDomain: 'partner.example',
 *   url: 'https://spire.partner.example:8443',
 *   profile: 'https_spiffe',
 *   endpointSpiffeId: 'spiffe://partner.example/spire/server',
 *   initialBundle: X509Bundle.fromPem('partner.example', partnerCaPem),
 * }
 * ```
 */
export interface FederationEndpoint extends BundleEndpointOptions {
  /**
   * `https_spiffe`: a source for the X.509 bundle of the endpoint ID's trust domain. For an endpoint
   * in another trust domain, default: this source itself (when another endpoint federates with it).
   */
  bundleSource?: X509BundleSource | undefined
  /**
   * `https_spiffe`: the operator-configured bundle of the endpoint ID's trust domain. For a
   * self-serving endpoint (endpoint ID in `trustDomain`) it authenticates the first fetch, and is
   * served as the trust domain's bundle until then; afterwards the latest fetched bundle is used
   * (Federation §5.2.2.4).
   */
  initialBundle?: SpiffeBundle | X509Bundle | undefined
}

/**
 * Options for {@link FederatedBundleSource.create}.
 *
 * @example
 * ```ts
 * const options: FederatedBundleSourceOptions = { endpoints: [partner], requireInitialFetch: true }
 * ```
 */
export interface FederatedBundleSourceOptions {
  /** The relationships, at most one per trust domain. */
  endpoints: readonly FederationEndpoint[]
  /** Poll interval when a bundle has no `spiffe_refresh_hint`, in ms. Default 300 000 (5 minutes, Federation §4.1). */
  defaultRefreshMs?: number | undefined
  /** Lower clamp for the refresh hint, in ms. Default 10 000. */
  minRefreshMs?: number | undefined
  /** Upper clamp for the refresh hint, in ms. Default 86 400 000 (one day). */
  maxRefreshMs?: number | undefined
  /**
   * Reject `create()` (with the first fetch error) unless the first fetch of every endpoint
   * succeeded. Default `false`: failed endpoints are retried at the next interval (and a self-serving
   * endpoint's `initialBundle` is served meanwhile).
   */
  requireInitialFetch?: boolean | undefined
  /** Aborting it cancels `create()` or closes the source. */
  signal?: AbortSignal | undefined
}

/**
 * Where one relationship stands, for health pages and logs.
 *
 * @example
 * ```ts
 * for (const s of federated.status()) console.log(s.trustDomain.name, s.lastError?.message ?? 'ok')
 * ```
 */
export interface FederationEndpointStatus {
  readonly trustDomain: TrustDomain
  /** The endpoint URL without query or fragment. */
  readonly endpoint: string
  /** The bundle currently served for the trust domain (fetched, or the initial one). */
  readonly bundle: SpiffeBundle | undefined
  readonly lastSuccessAt: Date | undefined
  /** The last fetch error, cleared by the next success. */
  readonly lastError: Error | undefined
  readonly nextRefreshAt: Date | undefined
}

interface EndpointState {
  readonly endpoint: ResolvedEndpoint
  readonly selfServing: boolean
  readonly bundleSource: X509BundleSource | undefined
  readonly initialBundle: SpiffeBundle | undefined
  /** What is served for the trust domain. */
  bundle: SpiffeBundle | undefined
  /** The last accepted fetched bundle (compared by `spiffe_sequence`). */
  fetched: SpiffeBundle | undefined
  lastSuccessAt: Date | undefined
  lastError: Error | undefined
  nextRefreshAt: Date | undefined
  timer: NodeJS.Timeout | undefined
  inflight: { controller: AbortController; done: Promise<void> } | undefined
}

/**
 * Keeps the bundles of federated trust domains fresh by polling their SPIFFE bundle endpoints
 * (SPIFFE Federation §4–§6), one endpoint per trust domain:
 * - each endpoint is polled every `spiffe_refresh_hint` seconds of its current bundle (5 minutes
 *   when absent), clamped to `[minRefreshMs, maxRefreshMs]`;
 * - a failed fetch keeps the last bundle and is retried at the next interval, not sooner, and is
 *   reported as an `error` event;
 * - a fetched bundle with a lower (or equal but different) `spiffe_sequence` than the last fetched
 *   one is ignored; without sequence numbers the latest fetch wins;
 * - `update` is emitted only when a trust domain's bundle actually changed (`SpiffeBundle.equals`),
 *   and every update installs a new `BundleSet`;
 * - bundles of different trust domains are never merged: each lookup answers from the one bundle of
 *   the trust domain asked for.
 *
 * It implements `X509BundleSource` and `JwtBundleSource`, so it plugs straight into
 * `verifyX509Svid`, JWT-SVID verification and the TLS helpers, and `LiveSource` (`close()` stops
 * every timer and in-flight fetch).
 *
 * @example
 * ```ts
 * import { FederatedBundleSource } from '@svidkit/core/federation'
 *
 * await using federated = await FederatedBundleSource.create({
 *   endpoints: [
 *     { trustDomain: 'partner.example', url: 'https://partner.example/bundle', profile: 'https_web' },
 *     {
 *       trustDomain: 'other.example',
 *       url: 'https://spire.other.example:8443',
 *       profile: 'https_spiffe',
 *       endpointSpiffeId: 'spiffe://other.example/spire/server',
 *       initialBundle: SpiffeBundle.parse('other.example', readFileSync('other.json', 'utf8')),
 *     },
 *   ],
 * })
 * federated.on('error', (err) => log.warn(err.message))
 * verifyX509Svid(peerChain, federated)
 * ```
 */
export class FederatedBundleSource extends LiveSourceBase implements X509BundleSource, JwtBundleSource {
  protected sourceEvents(): SourceEvents {
    return this.#events
  }

  protected isClosed(): boolean {
    return this.#closed
  }

  readonly #states: ReadonlyMap<string, EndpointState>
  readonly #events = new SourceEvents()
  readonly #defaultMs: number
  readonly #minMs: number
  readonly #maxMs: number
  readonly #signal: AbortSignal | undefined
  #set: BundleSet
  #closed = false
  readonly #onAbort = (): void => {
    void this.close()
  }

  private constructor(
    states: Map<string, EndpointState>,
    timing: { defaultMs: number; minMs: number; maxMs: number },
    signal: AbortSignal | undefined,
  ) {
    super()
    this.#states = states
    this.#defaultMs = timing.defaultMs
    this.#minMs = timing.minMs
    this.#maxMs = timing.maxMs
    this.#signal = signal
    this.#set = this.#buildSet()
  }

  /**
   * Validates every relationship, runs the first fetch of each endpoint in parallel, and resolves
   * once each has succeeded or failed (failures are retried in the background, unless
   * `requireInitialFetch`). Nothing keeps running after a rejection.
   *
   * @throws FederationError `ERR_FEDERATION_ENDPOINT_INVALID` for a bad relationship; OptionsError.
   * @example
   * ```ts
   * const federated = await FederatedBundleSource.create({
   *   endpoints: [{ trustDomain: 'partner.example', url: 'https://partner.example/bundle', profile: 'https_web' }],
   *   requireInitialFetch: true,
   * })
   * ```
   */
  static async create(options: FederatedBundleSourceOptions): Promise<FederatedBundleSource> {
    if (typeof options !== 'object' || options === null || !Array.isArray(options.endpoints)) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'FederatedBundleSource: "endpoints" must be an array')
    }
    const ms = (v: number | undefined, name: string, def: number): number => {
      if (v === undefined) return def
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 1) {
        throw new OptionsError('ERR_OPTIONS_INVALID', `FederatedBundleSource: "${name}" must be a number ≥ 1`)
      }
      return v
    }
    const timing = {
      defaultMs: ms(options.defaultRefreshMs, 'defaultRefreshMs', 300_000),
      minMs: ms(options.minRefreshMs, 'minRefreshMs', 10_000),
      maxMs: ms(options.maxRefreshMs, 'maxRefreshMs', 86_400_000),
    }
    if (timing.minMs > timing.maxMs) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        'FederatedBundleSource: "minRefreshMs" exceeds "maxRefreshMs"',
      )
    }
    const states = new Map<string, EndpointState>()
    for (const ep of options.endpoints) {
      const state = resolveState(ep)
      const td = state.endpoint.trustDomain.name
      if (states.has(td)) {
        throw new FederationError(
          'ERR_FEDERATION_ENDPOINT_INVALID',
          `trust domain "${td}" has more than one bundle endpoint`,
        )
      }
      states.set(td, state)
    }
    for (const state of states.values()) {
      const needsOther =
        state.endpoint.profile === 'https_spiffe' &&
        !state.selfServing &&
        !state.bundleSource &&
        !state.initialBundle
      if (needsOther && !states.has(state.endpoint.endpointId!.trustDomain.name)) {
        throw new FederationError(
          'ERR_FEDERATION_ENDPOINT_INVALID',
          `https_spiffe endpoint of "${state.endpoint.trustDomain}" needs "bundleSource" or "initialBundle" for "${state.endpoint.endpointId!.trustDomain}"`,
        )
      }
    }
    const signal = options.signal
    signal?.throwIfAborted()
    const source = new FederatedBundleSource(states, timing, signal)
    signal?.addEventListener('abort', source.#onAbort, { once: true })
    await Promise.all([...states.values()].map((s) => source.#fetch(s, false)))
    if (signal?.aborted) {
      await source.close()
      signal.throwIfAborted()
    }
    if (options.requireInitialFetch) {
      const missing = [...states.values()].find((s) => !s.lastSuccessAt)
      if (missing) {
        const err =
          missing.lastError ??
          new FederationError(
            'ERR_FEDERATION_FETCH_FAILED',
            `no bundle for "${missing.endpoint.trustDomain}"`,
          )
        await source.close()
        throw err
      }
    }
    return source
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle | undefined {
    this.#assertOpen()
    return this.#set.getX509BundleForTrustDomain(trustDomain)
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle | undefined {
    this.#assertOpen()
    return this.#set.getJwtBundleForTrustDomain(trustDomain)
  }

  /** The current SPIFFE bundle of a federated trust domain. */
  getSpiffeBundleForTrustDomain(trustDomain: TrustDomain | string): SpiffeBundle | undefined {
    this.#assertOpen()
    return this.#set.getSpiffeBundle(trustDomain)
  }

  /** Every current bundle. A new object after each update: treat it as read-only. */
  get bundles(): BundleSet {
    this.#assertOpen()
    return this.#set
  }

  /** Per-endpoint state: current bundle, last success, last error, next poll. */
  status(): FederationEndpointStatus[] {
    return [...this.#states.values()].map((s) =>
      Object.freeze({
        trustDomain: s.endpoint.trustDomain,
        endpoint: s.endpoint.label,
        bundle: s.bundle,
        lastSuccessAt: s.lastSuccessAt,
        lastError: s.lastError,
        nextRefreshAt: s.nextRefreshAt,
      }),
    )
  }

  /** Open, and every endpoint's last fetch succeeded. */
  get healthy(): boolean {
    if (this.#closed) return false
    for (const s of this.#states.values()) if (!s.bundle || s.lastError) return false
    return true
  }

  /** Stops every poll timer, aborts in-flight fetches and waits for them. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#signal?.removeEventListener('abort', this.#onAbort)
    const pending: Promise<void>[] = []
    for (const s of this.#states.values()) {
      clearTimeout(s.timer)
      s.timer = undefined
      s.nextRefreshAt = undefined
      if (s.inflight) {
        s.inflight.controller.abort(new SourceError('ERR_SOURCE_CLOSED', 'source is closed'))
        pending.push(s.inflight.done)
      }
    }
    this.#events.close()
    await Promise.all(pending)
  }

  #assertOpen(): void {
    if (this.#closed) throw new SourceError('ERR_SOURCE_CLOSED', 'source is closed')
  }

  #buildSet(): BundleSet {
    const set = new BundleSet()
    for (const s of this.#states.values()) if (s.bundle) set.add(s.bundle)
    return set
  }

  /** The bundle source that authenticates an https_spiffe endpoint right now. */
  #verifier(s: EndpointState): X509BundleSource | undefined {
    if (s.endpoint.profile !== 'https_spiffe') return undefined
    if (s.selfServing) return s.fetched ?? s.initialBundle ?? s.bundleSource
    if (s.bundleSource) return s.bundleSource
    if (s.initialBundle) return s.initialBundle
    return { getX509BundleForTrustDomain: (td) => this.#set.getX509BundleForTrustDomain(td) }
  }

  #fetch(s: EndpointState, emit: boolean): Promise<void> {
    const controller = new AbortController()
    const run = async (): Promise<void> => {
      try {
        const bundle = await fetchFromEndpoint(s.endpoint, this.#verifier(s), controller.signal)
        if (this.#closed) return
        s.lastSuccessAt = new Date()
        s.lastError = undefined
        this.#accept(s, bundle, emit)
      } catch (err) {
        if (this.#closed) return
        const error =
          err instanceof Error
            ? err
            : new FederationError('ERR_FEDERATION_FETCH_FAILED', `${s.endpoint.label}: fetch failed`, {
                cause: err,
              })
        s.lastError = error
        if (emit) this.#events.emitError(error)
      } finally {
        s.inflight = undefined
        this.#schedule(s)
      }
    }
    const done = run()
    s.inflight = { controller, done }
    return done
  }

  #accept(s: EndpointState, bundle: SpiffeBundle, emit: boolean): void {
    const last = s.fetched
    if (last?.sequenceNumber !== undefined && bundle.sequenceNumber !== undefined) {
      // spiffe_sequence is authoritative: an older (or same-numbered) bundle is not newer.
      if (bundle.sequenceNumber < last.sequenceNumber) return
      if (bundle.sequenceNumber === last.sequenceNumber && !bundle.equals(last)) return
    }
    s.fetched = bundle
    if (s.bundle?.equals(bundle)) return
    s.bundle = bundle
    this.#set = this.#buildSet()
    if (emit) this.#events.emitUpdate()
  }

  #schedule(s: EndpointState): void {
    if (this.#closed) return
    clearTimeout(s.timer)
    const hint = s.bundle?.refreshHintSeconds
    const wanted = hint === undefined ? this.#defaultMs : hint * 1000
    const delay = Math.min(this.#maxMs, Math.max(this.#minMs, wanted))
    s.nextRefreshAt = new Date(Date.now() + delay)
    s.timer = setTimeout(() => {
      s.timer = undefined
      if (!this.#closed) void this.#fetch(s, true)
    }, delay)
  }
}

function resolveState(ep: FederationEndpoint): EndpointState {
  const endpoint = resolveEndpoint(ep)
  const invalid = (why: string): never => {
    throw new FederationError(
      'ERR_FEDERATION_ENDPOINT_INVALID',
      `endpoint of "${endpoint.trustDomain}": ${why}`,
    )
  }
  const selfServing =
    endpoint.profile === 'https_spiffe' && endpoint.endpointId!.trustDomain.equals(endpoint.trustDomain)
  if (endpoint.profile === 'https_web' && (ep.bundleSource !== undefined || ep.initialBundle !== undefined)) {
    invalid('"bundleSource" and "initialBundle" apply to https_spiffe only')
  }
  if (ep.bundleSource !== undefined && typeof ep.bundleSource?.getX509BundleForTrustDomain !== 'function') {
    invalid('"bundleSource" must be an X509BundleSource')
  }
  let initialBundle: SpiffeBundle | undefined
  if (ep.initialBundle !== undefined) {
    const b = ep.initialBundle
    if (b instanceof SpiffeBundle) initialBundle = b
    else if (b instanceof X509Bundle) initialBundle = SpiffeBundle.from({ x509: b })
    else invalid('"initialBundle" must be a SpiffeBundle or an X509Bundle')
    if (!initialBundle!.trustDomain.equals(endpoint.endpointId!.trustDomain)) {
      invalid(`"initialBundle" must be the bundle of "${endpoint.endpointId!.trustDomain}"`)
    }
  }
  if (selfServing && !initialBundle && !ep.bundleSource) {
    invalid(
      'a self-serving https_spiffe endpoint needs "initialBundle" (or "bundleSource") for its first fetch',
    )
  }
  return {
    endpoint,
    selfServing,
    bundleSource: ep.bundleSource,
    initialBundle,
    // A self-serving endpoint's configured bundle is the trust domain's bundle until the first fetch.
    bundle: selfServing ? initialBundle : undefined,
    fetched: undefined,
    lastSuccessAt: undefined,
    lastError: undefined,
    nextRefreshAt: undefined,
    timer: undefined,
    inflight: undefined,
  }
}
