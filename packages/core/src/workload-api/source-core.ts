// The lifecycle shared by X509Source, JwtSource and BundleSource: client ownership, watches and their
// health, the wait for the first update (with a timeout that says why nothing usable arrived), and
// closing without leaving a timer or a socket behind. Not exported from the package.
import { status as GrpcStatus } from '@grpc/grpc-js'
import type { BundleSet } from '../bundle/bundle-set.js'
import { OptionsError, SourceError, type WorkloadApiError } from '../errors/domain-errors.js'
import { SourceEvents } from '../source/source-events.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import type { BackoffOptions } from './backoff.js'
import { grpcCodeOf } from './grpc-status.js'
import { WorkloadApiClient, type WorkloadApiClientOptions } from './workload-api-client.js'

/**
 * Options every Workload API source takes.
 *
 * @example
 * ```ts
 * const options: WorkloadSourceOptions = { address: 'unix:///run/spire/agent.sock', timeoutMs: 10_000, signal: controller.signal }
 * const source = await BundleSource.create(options)
 * ```
 */
export interface WorkloadSourceOptions {
  /** The Workload API address (`unix:///…` / `tcp://IP:port`). Default `$SPIFFE_ENDPOINT_SOCKET`. */
  address?: string | undefined
  /** Use this client (left open on `close()`) instead of creating one (which the source owns and closes). */
  client?: WorkloadApiClient | undefined
  /** Aborting it cancels `create()` (rejecting with the signal's reason) or closes the source. */
  signal?: AbortSignal | undefined
  /**
   * How long `create()` waits for the first usable update, in ms. Default 30 000; `Infinity` waits
   * forever. On expiry `create()` rejects with `ERR_SOURCE_TIMEOUT`, saying whether the socket was
   * unreachable, the agent answered PermissionDenied (no identity yet), or nothing arrived.
   */
  timeoutMs?: number | undefined
  /** Retry backoff of the watches. Default: initial 1 s, ×2, max 30 s, ±20 % jitter. */
  backoff?: BackoffOptions | undefined
}

/** @internal The health of one watch. */
export interface WatchState {
  readonly rpc: string
  /** Whether the last thing the stream did was deliver a message (not fail). */
  up: boolean
  /** Messages received (usable or not). */
  messages: number
  /** Whether a usable state was applied at least once. */
  ready: boolean
  lastError: WorkloadApiError | undefined
  /** Set when the watch stopped for good (InvalidArgument, Unimplemented). */
  fatal: WorkloadApiError | undefined
}

/** @internal */
export class SourceCore {
  readonly events = new SourceEvents()
  readonly client: WorkloadApiClient
  readonly watches: WatchState[] = []
  #closed = false
  readonly #ownsClient: boolean
  readonly #abort = new AbortController()
  readonly #running: Promise<void>[] = []
  readonly #timeoutMs: number
  readonly #backoff: BackoffOptions | undefined
  readonly #signal: AbortSignal | undefined
  #onChange: (() => void) | undefined
  readonly #onAbort = (): void => {
    void this.onSignalClose?.()
  }
  /** Set by the owner: what to call when the user's signal aborts after `create()`. */
  onSignalClose: (() => Promise<void>) | undefined

  constructor(options: WorkloadSourceOptions, what: string) {
    if (typeof options !== 'object' || options === null) {
      throw new OptionsError('ERR_OPTIONS_INVALID', `${what} options must be an object`)
    }
    const timeoutMs = options.timeoutMs ?? 30_000
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        `${what}: timeoutMs must be a positive number (or Infinity)`,
      )
    }
    if (options.client !== undefined && !(options.client instanceof WorkloadApiClient)) {
      throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: client must be a WorkloadApiClient`)
    }
    if (options.client && options.address !== undefined) {
      throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: pass either client or address, not both`)
    }
    this.#timeoutMs = timeoutMs
    this.#backoff = options.backoff
    this.#signal = options.signal
    this.#signal?.throwIfAborted()
    const clientOptions: WorkloadApiClientOptions = { address: options.address, backoff: options.backoff }
    this.client = options.client ?? new WorkloadApiClient(clientOptions)
    this.#ownsClient = options.client === undefined
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Throws `ERR_SOURCE_CLOSED` after close. */
  assertOpen(): void {
    if (this.#closed) throw new SourceError('ERR_SOURCE_CLOSED', 'source is closed')
  }

  /** The internal signal, aborted on close. */
  get signal(): AbortSignal {
    return this.#abort.signal
  }

  /** Whether every watch is connected and none has stopped. */
  get watchesUp(): boolean {
    return this.watches.every((w) => w.up && !w.fatal)
  }

  /**
   * Starts a watch. `run` gets the watch state, the backoff and the close signal; its promise rejecting
   * marks the watch as stopped for good.
   */
  startWatch(
    rpc: string,
    run: (
      state: WatchState,
      options: { signal: AbortSignal; backoff: BackoffOptions | undefined },
    ) => Promise<void>,
  ): WatchState {
    const state: WatchState = {
      rpc,
      up: false,
      messages: 0,
      ready: false,
      lastError: undefined,
      fatal: undefined,
    }
    this.watches.push(state)
    const p = run(state, { signal: this.#abort.signal, backoff: this.#backoff }).then(
      () => undefined,
      (err: WorkloadApiError) => {
        state.fatal = err
        state.up = false
        this.changed()
      },
    )
    this.#running.push(p)
    return state
  }

  /** Records a watch error; returns whether it is a PermissionDenied (all data redacted, §5.2.1). */
  watchError(state: WatchState, err: WorkloadApiError): boolean {
    state.lastError = err
    if (err.code !== 'ERR_WORKLOAD_API_MALFORMED_RESPONSE') state.up = false
    this.events.emitError(err)
    this.changed()
    return grpcCodeOf(err) === GrpcStatus.PERMISSION_DENIED
  }

  /** Call after any state change; wakes `waitReady`. */
  changed(): void {
    this.#onChange?.()
  }

  /**
   * Waits until `ready()` (checked after every change), a watch stops for good (rejects with its
   * error), the user's signal aborts (rejects with its reason), or the timeout (`ERR_SOURCE_TIMEOUT`).
   */
  waitReady(what: string, ready: () => boolean, problem: () => string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer =
        this.#timeoutMs === Number.POSITIVE_INFINITY
          ? undefined
          : setTimeout(() => {
              done()
              reject(this.#timeoutError(what, problem()))
            }, this.#timeoutMs)
      const onAbort = (): void => {
        done()
        reject(this.#signal?.reason)
      }
      const done = (): void => {
        if (timer) clearTimeout(timer)
        this.#signal?.removeEventListener('abort', onAbort)
        this.#onChange = undefined
      }
      this.#onChange = () => {
        const fatal = this.watches.find((w) => w.fatal)?.fatal
        if (fatal) {
          done()
          reject(fatal)
        } else if (this.#closed) {
          done()
          reject(new SourceError('ERR_SOURCE_CLOSED', 'source was closed while starting'))
        } else if (ready()) {
          done()
          resolve()
        }
      }
      this.#signal?.addEventListener('abort', onAbort, { once: true })
      this.#onChange()
    })
  }

  /**
   * The end of every `create()`: start the watches, wait until `ready()` (see {@link waitReady}),
   * close the source on any failure, then let the user's signal close it.
   */
  async open(
    what: string,
    start: () => void,
    ready: () => boolean,
    problem: () => string | undefined,
    close: () => Promise<void>,
  ): Promise<void> {
    try {
      start()
      await this.waitReady(what, ready, problem)
    } catch (err) {
      await close()
      throw err
    }
    this.armSignal()
  }

  /** After a successful `create()`: the user's signal now closes the source. */
  armSignal(): void {
    if (this.#signal?.aborted) void this.onSignalClose?.()
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  #timeoutError(what: string, problem: string | undefined): SourceError {
    const address = this.client.address.address
    const stalled = this.watches.filter((w) => !w.ready)
    const err = stalled.find((w) => w.lastError)?.lastError
    const code = grpcCodeOf(err)
    const messages = stalled.reduce((n, w) => n + w.messages, 0)
    let reason: string
    let detail: string
    if (problem !== undefined || (messages > 0 && !err)) {
      reason = 'unusable'
      detail = `${messages} message(s) arrived but none was usable: ${problem ?? 'see the error events'}`
    } else if (code === GrpcStatus.PERMISSION_DENIED) {
      reason = 'permission-denied'
      detail = `the agent answered PermissionDenied: no identity is issued to this workload (yet)${
        err?.details?.grpcDetails ? ` (${String(err.details.grpcDetails)})` : ''
      }`
    } else if (code === GrpcStatus.UNAVAILABLE && messages === 0) {
      reason = 'unreachable'
      detail = `the socket is unreachable (${err?.reason ?? 'unavailable'})`
    } else if (err) {
      reason = messages > 0 ? 'unusable' : 'error'
      detail = `last error: ${err.reason}`
    } else {
      reason = 'no-message'
      detail = 'the agent accepted the call but sent no message'
    }
    return new SourceError(
      'ERR_SOURCE_TIMEOUT',
      `no ${what} from the Workload API at ${address} within ${this.#timeoutMs} ms: ${detail}`,
      {
        ...(err ? { cause: err } : {}),
        details: {
          address,
          reason,
          rpcs: stalled.map((w) => w.rpc),
          ...(code !== undefined ? { grpcCode: code } : {}),
        },
      },
    )
  }

  /** Stops every watch and timer, closes the client if owned. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#abort.abort()
    this.changed()
    await Promise.allSettled(this.#running)
    if (this.#ownsClient) this.client.close()
    this.events.close()
  }
}

/**
 * The bundles of one kind in `set`, by trust domain name, keeping the `held` object for every bundle
 * whose content did not change: caches keyed by bundle identity (the JWT-SVID and X.509 verification
 * caches) then see every real change and no spurious one. A trust domain missing from `set` is dropped
 * (the message is the full state, Workload API §4.4).
 */
export function mergeBundles<B extends { equals(other: B): boolean }>(
  held: ReadonlyMap<string, B>,
  set: BundleSet,
  get: (set: BundleSet, td: TrustDomain) => B | undefined,
): Map<string, B> {
  const next = new Map<string, B>()
  for (const td of set.trustDomains()) {
    const b = get(set, td)
    if (!b) continue
    const old = held.get(td.name)
    next.set(td.name, old?.equals(b) ? old : b)
  }
  return next
}
