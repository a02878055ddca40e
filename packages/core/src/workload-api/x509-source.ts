import { BundleSet } from '../bundle/bundle-set.js'
import type { X509BundleSource } from '../bundle/bundle-source.js'
import type { X509Bundle } from '../bundle/x509-bundle.js'
import { OptionsError, SourceError, type WorkloadApiError } from '../errors/domain-errors.js'
import { LiveSourceBase } from '../source/live-source-base.js'
import type { SourceEvents } from '../source/source-events.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { X509Svid, X509SvidSource } from '../x509-svid/x509-svid.js'
import type { X509Context } from './parse-responses.js'
import { mergeBundles, SourceCore, type WatchState, type WorkloadSourceOptions } from './source-core.js'

/**
 * Which X.509-SVID an {@link X509Source} serves when the workload has several: the one with a hint,
 * the one with a SPIFFE ID, or your function's choice. Default: the first (the default identity,
 * Workload API §8).
 *
 * @example
 * ```ts
 * const byHint: X509SvidPicker = { hint: 'internal' }
 * const byId: X509SvidPicker = { spiffeId: 'spiffe://example.org/web' }
 * const byFn: X509SvidPicker = (svids) => svids.find((s) => s.id.path.startsWith('/ns/prod/'))
 * ```
 */
export type X509SvidPicker =
  | { readonly hint: string }
  | { readonly spiffeId: SpiffeId | string }
  | ((svids: readonly X509Svid[]) => X509Svid | undefined)

/**
 * Options for {@link X509Source.create}.
 *
 * @example
 * ```ts
 * const options: X509SourceOptions = { address: 'unix:///run/spire/agent.sock', picker: { hint: 'internal' }, timeoutMs: 10_000 }
 * await using source = await X509Source.create(options)
 * ```
 */
export interface X509SourceOptions extends WorkloadSourceOptions {
  /** Which SVID to serve. Default: the first. */
  picker?: X509SvidPicker | undefined
}

/**
 * A live X.509-SVID and X.509 bundle source on the Workload API's `FetchX509SVID` stream (go-spiffe
 * `workloadapi.X509Source`). Implements {@link X509SvidSource} and {@link X509BundleSource} so TLS
 * helpers read the current SVID and bundles on every handshake, and {@link LiveSource}.
 *
 * - Every message is the full state: SVIDs and bundles are replaced as a whole. A federated bundle
 *   missing from a later message is dropped; redacted SVIDs are no longer served (§4.4, §5.2.1). A
 *   `PermissionDenied` from the agent redacts everything (getters then throw `ERR_SOURCE_NO_SVID`).
 * - While the stream is down it keeps serving the last good state, but **never an expired SVID**:
 *   `getX509Svid()` throws `ERR_SOURCE_SVID_EXPIRED` once the served SVID's `notAfter` has passed.
 * - `healthy` is true while the stream is connected and the served SVID has not expired.
 * - Bundle objects are kept while unchanged and replaced when they change, so caches keyed by object
 *   identity see every change and only real ones.
 *
 * @example
 * ```ts
 * import { X509Source } from '@svidkit/core/workload-api'
 * await using source = await X509Source.create({ timeoutMs: 10_000 }) // SPIFFE_ENDPOINT_SOCKET
 * source.on('update', () => console.log('now', source.getX509Svid().id.toString()))
 * const svid = source.getX509Svid()
 * const bundle = source.getX509BundleForTrustDomain(svid.id.trustDomain)
 * ```
 */
export class X509Source extends LiveSourceBase implements X509SvidSource, X509BundleSource {
  protected sourceEvents(): SourceEvents {
    return this.#core.events
  }

  protected isClosed(): boolean {
    return this.#core.closed
  }

  readonly #core: SourceCore
  readonly #pick: (svids: readonly X509Svid[]) => X509Svid | undefined
  readonly #pickerLabel: string | undefined
  #svids: readonly X509Svid[] = []
  #svid: X509Svid | undefined
  #problem: string | undefined
  #bundles = new Map<string, X509Bundle>()
  #bundleSet: BundleSet | undefined
  #watch: WatchState | undefined

  private constructor(options: X509SourceOptions) {
    super()
    const { pick, label } = resolvePicker(options.picker)
    this.#pick = pick
    this.#pickerLabel = label
    this.#core = new SourceCore(options, 'X509Source')
    this.#core.onSignalClose = () => this.close()
  }

  /**
   * Connects and resolves after the first update that yields an SVID to serve. Rejects with
   * `ERR_SOURCE_TIMEOUT` after `timeoutMs` (saying why), with the `WorkloadApiError` of a watch that
   * stopped (`InvalidArgument`, `Unimplemented`), with the signal's reason on abort, and with
   * `ERR_OPTIONS_INVALID` / `ERR_WORKLOAD_API_ADDRESS_*` for bad options. Nothing keeps running after
   * a rejection.
   *
   * @example
   * ```ts
   * const source = await X509Source.create({
   *   address: 'unix:///run/spire/agent.sock',
   *   picker: { hint: 'internal' },
   *   backoff: { initialMs: 500, maxMs: 10_000 },
   * })
   * ```
   */
  static async create(options: X509SourceOptions = {}): Promise<X509Source> {
    const source = new X509Source(options)
    await source.#core.open(
      'X.509-SVID',
      () => source.#start(),
      () => source.#svid !== undefined,
      () => source.#problem,
      () => source.close(),
    )
    return source
  }

  #start(): void {
    this.#watch = this.#core.startWatch('FetchX509SVID', (state, { signal, backoff }) =>
      this.#core.client.watchX509Context(
        {
          onUpdate: (ctx) => this.#apply(state, ctx),
          onError: (err) => this.#error(state, err),
        },
        { signal, ...(backoff ? { backoff } : {}) },
      ),
    )
  }

  #apply(state: WatchState, ctx: X509Context): void {
    state.messages++
    state.up = true
    this.#svids = ctx.svids
    this.#svid = this.#pick(ctx.svids)
    this.#problem = this.#svid
      ? undefined
      : `no X.509-SVID matches ${this.#pickerLabel ?? 'the picker'} (got ${ctx.svids
          .map((s) => (s.hint ? `${s.id} [${s.hint}]` : s.id.toString()))
          .join(', ')})`
    if (this.#svid) state.ready = true
    this.#bundles = mergeBundles(this.#bundles, ctx.bundles, (set, td) => set.getX509BundleForTrustDomain(td))
    this.#bundleSet = undefined
    this.#core.events.emitUpdate()
    this.#core.changed()
  }

  #error(state: WatchState, err: WorkloadApiError): void {
    state.messages += err.code === 'ERR_WORKLOAD_API_MALFORMED_RESPONSE' ? 1 : 0
    if (err.code === 'ERR_WORKLOAD_API_MALFORMED_RESPONSE') this.#problem = err.reason
    const denied = this.#core.watchError(state, err)
    if (denied && (this.#svids.length > 0 || this.#bundles.size > 0)) {
      // Workload API §5.2.1: PermissionDenied redacts every SVID (and the bundles that came with them).
      this.#svids = []
      this.#svid = undefined
      this.#bundles = new Map()
      this.#bundleSet = undefined
      this.#core.events.emitUpdate()
    }
  }

  /**
   * The served X.509-SVID: the picked one (default: the first).
   *
   * @throws SourceError `ERR_SOURCE_CLOSED`, `ERR_SOURCE_NO_SVID` (redacted, or none matches the
   *   picker), `ERR_SOURCE_SVID_EXPIRED` (the last one received has expired: the agent is unreachable)
   */
  getX509Svid(): X509Svid {
    this.#core.assertOpen()
    const svid = this.#svid
    if (!svid) {
      throw new SourceError(
        'ERR_SOURCE_NO_SVID',
        this.#problem ?? 'no X.509-SVID to serve: the agent redacted them (PermissionDenied)',
      )
    }
    if (svid.expiresAt.getTime() <= Date.now()) {
      throw new SourceError(
        'ERR_SOURCE_SVID_EXPIRED',
        `X.509-SVID for "${svid.id}" expired at ${svid.expiresAt.toISOString()} and no newer one arrived`,
      )
    }
    return svid
  }

  /** Every X.509-SVID of the last message that has not expired, in the agent's order. */
  getX509Svids(): readonly X509Svid[] {
    this.#core.assertOpen()
    const now = Date.now()
    return this.#svids.filter((s) => s.expiresAt.getTime() > now)
  }

  /** The X.509 bundle of a trust domain (own or federated), or `undefined`. */
  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle | undefined {
    this.#core.assertOpen()
    return this.#bundles.get(trustDomain.name)
  }

  /** The current X.509 bundles (own and federated) as a set; a new object after each change. */
  get bundles(): BundleSet {
    this.#core.assertOpen()
    this.#bundleSet ??= new BundleSet(this.#bundles.values())
    return this.#bundleSet
  }

  /** Whether the stream is connected and the served SVID has not expired. */
  get healthy(): boolean {
    if (this.#core.closed || !this.#core.watchesUp || !this.#svid) return false
    return this.#svid.expiresAt.getTime() > Date.now()
  }

  /** The last watch error, if the stream has failed since it was last up. */
  get lastError(): WorkloadApiError | undefined {
    return this.#watch?.up ? undefined : this.#watch?.lastError
  }

  /** Stops the watch, closes the client if the source created it. Idempotent. */
  close(): Promise<void> {
    return this.#core.close()
  }
}

function resolvePicker(picker: X509SvidPicker | undefined): {
  pick: (svids: readonly X509Svid[]) => X509Svid | undefined
  label: string | undefined
} {
  if (picker === undefined) return { pick: (svids) => svids[0], label: undefined }
  if (typeof picker === 'function') {
    return {
      pick: (svids) => {
        try {
          return picker(svids)
        } catch {
          return undefined
        }
      },
      label: 'the picker function',
    }
  }
  if (typeof picker === 'object' && picker !== null) {
    if ('hint' in picker) {
      if (typeof picker.hint !== 'string' || picker.hint === '') {
        throw new OptionsError('ERR_OPTIONS_INVALID', 'X509Source: picker.hint must be a non-empty string')
      }
      const hint = picker.hint
      return { pick: (svids) => svids.find((s) => s.hint === hint), label: `hint "${hint}"` }
    }
    if ('spiffeId' in picker) {
      const id = typeof picker.spiffeId === 'string' ? SpiffeId.tryParse(picker.spiffeId) : picker.spiffeId
      if (!(id instanceof SpiffeId)) {
        throw new OptionsError('ERR_OPTIONS_INVALID', 'X509Source: picker.spiffeId must be a SPIFFE ID')
      }
      return { pick: (svids) => svids.find((s) => s.id.equals(id)), label: `SPIFFE ID "${id}"` }
    }
  }
  throw new OptionsError(
    'ERR_OPTIONS_INVALID',
    'X509Source: picker must be { hint }, { spiffeId } or a function',
  )
}
