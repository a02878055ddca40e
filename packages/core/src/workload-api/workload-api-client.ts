import { type ChannelOptions, Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js'
import type { BundleSet } from '../bundle/bundle-set.js'
import { OptionsError, WorkloadApiError } from '../errors/domain-errors.js'
import type { JwtSvid, JwtSvidParams } from '../jwt-svid/jwt-svid.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { X509Svid } from '../x509-svid/x509-svid.js'
import { resolveWorkloadApiAddress, type WorkloadApiAddress } from './address.js'
import { Backoff, type BackoffOptions, type ResolvedBackoff, resolveBackoff, sleep } from './backoff.js'
import { abortedError, isFatalWatchError, toWorkloadApiError } from './grpc-status.js'
import {
  decodeFetchedJwtSvid,
  parseJwtBundlesResponse,
  parseJwtSvidResponse,
  parseX509BundlesResponse,
  parseX509SvidResponse,
  type X509Context,
} from './parse-responses.js'
import {
  type JwtBundlesRequestMessage,
  type JwtBundlesResponseMessage,
  workloadApiServiceDefinition as svc,
  WORKLOAD_API_SECURITY_HEADER,
  type X509BundlesRequestMessage,
  type X509BundlesResponseMessage,
  type X509SvidRequestMessage,
  type X509SvidResponseMessage,
} from './proto/workload-proto.js'

/**
 * Options for {@link WorkloadApiClient}.
 *
 * @example
 * ```ts
 * const options: WorkloadApiClientOptions = { address: 'tcp://127.0.0.1:8081', backoff: { maxMs: 5000 } }
 * const client = new WorkloadApiClient(options)
 * ```
 */
export interface WorkloadApiClientOptions {
  /**
   * The Workload API address, `unix:///abs/path.sock` or `tcp://IP:port`. Default:
   * `$SPIFFE_ENDPOINT_SOCKET` (Workload Endpoint §4).
   */
  address?: string | undefined
  /** Backoff of the watches (`watch*`), unless a watch passes its own. */
  backoff?: BackoffOptions | undefined
  /** Extra `@grpc/grpc-js` channel options (advanced; the channel is always plaintext). */
  channelOptions?: ChannelOptions | undefined
}

/**
 * Options of a one-shot call.
 *
 * @example
 * ```ts
 * const options: CallOptions = { signal: AbortSignal.timeout(5000) } // ERR_WORKLOAD_API_TIMEOUT after 5 s
 * const svid = await client.fetchX509Svid(options)
 * ```
 */
export interface CallOptions {
  /** Cancels the call; an `AbortSignal.timeout()` makes it fail with `ERR_WORKLOAD_API_TIMEOUT`. */
  signal?: AbortSignal | undefined
}

/**
 * Options of a watch.
 *
 * @example
 * ```ts
 * const controller = new AbortController()
 * const options: WatchOptions = { signal: controller.signal, backoff: { initialMs: 200 } }
 * const done = client.watchX509Bundles({ onUpdate: (set) => console.log(set.size) }, options)
 * controller.abort() // `done` resolves
 * ```
 */
export interface WatchOptions {
  /** Stops the watch: the promise returned by `watch*` then resolves. */
  signal?: AbortSignal | undefined
  /** Overrides the client's backoff for this watch. */
  backoff?: BackoffOptions | undefined
}

/**
 * Receives the messages of a watch.
 *
 * @example
 * ```ts
 * const watcher: Watcher<BundleSet> = {
 *   onUpdate: (bundles) => console.log(bundles.trustDomains().map(String)),
 *   onError: (err) => console.warn(err.code),
 * }
 * await client.watchJwtBundles(watcher, { signal })
 * ```
 */
export interface Watcher<T> {
  /** A new full state (every message replaces the previous one: absent entries were redacted). */
  onUpdate(value: T): void
  /**
   * A failed attempt (the watch retries after a backoff, or stops if the error is final) or a
   * message that was discarded (malformed, or a mandatory field missing; the stream is kept).
   */
  onError?(error: WorkloadApiError): void
}

/**
 * The result of {@link WorkloadApiClient.validateJwtSvid}: the token as the agent validated it.
 *
 * @example
 * ```ts
 * const validated: ValidatedJwtSvid = await client.validateJwtSvid(token, 'spiffe://example.org/orders')
 * validated.id.toString() // the agent's spiffe_id, e.g. 'spiffe://example.org/web'
 * validated.claims.aud // ['spiffe://example.org/orders'], as the agent returned it
 * ```
 */
export interface ValidatedJwtSvid extends JwtSvid {
  /** The claims the agent returned in `ValidateJWTSVIDResponse.claims` (SPIRE may filter foreign ones). */
  readonly claims: Readonly<Record<string, unknown>>
}

type StreamRpc = 'FetchX509SVID' | 'FetchX509Bundles' | 'FetchJWTBundles'

/**
 * A client of the SPIFFE Workload API (Workload API §5–§6) on `@grpc/grpc-js`: the X.509-SVID and
 * JWT-SVID profiles' five RPCs over a plaintext channel to a unix socket or a loopback TCP port, each
 * call carrying the `workload.spiffe.io: true` security header.
 *
 * - One-shot calls (`fetch*`, `validateJwtSvid`) read one message and return core types.
 * - Watches (`watch*`) keep the stream open, hand every message to the watcher, and reconnect: at once
 *   when a stream ends cleanly after a message; after an exponential backoff with jitter (reset on
 *   every message) on `Unavailable`, `PermissionDenied` and other transient codes; never on
 *   `InvalidArgument` or `Unimplemented` (the promise rejects). A message with a mandatory field at
 *   its default value is reported to `onError` and discarded (§4.5).
 * - Every call takes an `AbortSignal`. gRPC failures become {@link WorkloadApiError}s whose `details`
 *   carry `grpcCode` / `grpcStatus` / `grpcDetails`.
 *
 * `ValidateJWTSVID` answers `InvalidArgument` when the token is invalid (SPIRE does, and it is the
 * spec's code for a bad request): {@link validateJwtSvid} throws `ERR_WORKLOAD_API_JWT_SVID_INVALID`
 * (HTTP 401 `invalid_token`) then, not `ERR_WORKLOAD_API_INVALID_ARGUMENT`. Its own arguments are
 * checked locally first, so that code cannot stand for a client bug.
 *
 * @example
 * ```ts
 * import { WorkloadApiClient } from '@svidkit/core/workload-api'
 * const client = new WorkloadApiClient({ address: 'unix:///run/spire/agent.sock' })
 * try {
 *   const { svids, bundles } = await client.fetchX509Context({ signal: AbortSignal.timeout(5000) })
 *   const token = await client.fetchJwtSvid({ audience: 'spiffe://example.org/orders' })
 * } finally {
 *   client.close()
 * }
 * ```
 */
export class WorkloadApiClient {
  /** The validated address. */
  readonly address: WorkloadApiAddress
  readonly #client: Client
  readonly #backoff: ResolvedBackoff
  readonly #calls = new Set<{ cancel(): void }>()
  #closed = false

  /**
   * Validates the address eagerly (no connection is made until the first call).
   *
   * @throws WorkloadApiError `ERR_WORKLOAD_API_ADDRESS_MISSING` / `ERR_WORKLOAD_API_ADDRESS_INVALID`
   * @throws OptionsError for bad backoff options
   */
  constructor(options: WorkloadApiClientOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'WorkloadApiClient options must be an object')
    }
    this.address = resolveWorkloadApiAddress(options.address)
    this.#backoff = resolveBackoff(options.backoff)
    this.#client = new Client(this.address.grpcTarget, credentials.createInsecure(), {
      // grpc-js backs off reconnecting on its own; keep it no slower than the watches so a restarted
      // agent is picked up on the next retry.
      'grpc.initial_reconnect_backoff_ms': Math.max(100, Math.min(this.#backoff.initialMs, 1000)),
      'grpc.max_reconnect_backoff_ms': Math.max(100, Math.min(this.#backoff.maxMs, 5000)),
      'grpc.enable_retries': 0,
      ...options.channelOptions,
    })
  }

  /**
   * Cancels every call in progress (watches then reject with `ERR_WORKLOAD_API_ABORTED`) and closes
   * the channel. Idempotent. Later calls throw `ERR_WORKLOAD_API_ABORTED`.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const call of [...this.#calls]) call.cancel()
    this.#calls.clear()
    this.#client.close()
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed
  }

  // --- X.509-SVID profile ------------------------------------------------------------------------

  /** The default X.509-SVID (the first of the first `FetchX509SVID` message). */
  async fetchX509Svid(options: CallOptions = {}): Promise<X509Svid> {
    return (await this.fetchX509Context(options)).svids[0]!
  }

  /** Every X.509-SVID of the workload (duplicate hints: the first wins). */
  async fetchX509Svids(options: CallOptions = {}): Promise<readonly X509Svid[]> {
    return (await this.fetchX509Context(options)).svids
  }

  /** SVIDs and bundles (own and federated) from the first `FetchX509SVID` message. */
  async fetchX509Context(options: CallOptions = {}): Promise<X509Context> {
    const msg = await this.#first<X509SvidRequestMessage, X509SvidResponseMessage>(
      'FetchX509SVID',
      {},
      options.signal,
    )
    return parseX509SvidResponse(msg)
  }

  /** Watches `FetchX509SVID`. Resolves when `signal` aborts; rejects on a final error. */
  watchX509Context(watcher: Watcher<X509Context>, options: WatchOptions = {}): Promise<void> {
    return this.#watch<X509SvidResponseMessage, X509Context>(
      'FetchX509SVID',
      parseX509SvidResponse,
      watcher,
      options,
    )
  }

  /** The X.509 bundles (`FetchX509Bundles`, for validators without an SVID of their own). */
  async fetchX509Bundles(options: CallOptions = {}): Promise<BundleSet> {
    const msg = await this.#first<X509BundlesRequestMessage, X509BundlesResponseMessage>(
      'FetchX509Bundles',
      {},
      options.signal,
    )
    return parseX509BundlesResponse(msg)
  }

  /** Watches `FetchX509Bundles`. */
  watchX509Bundles(watcher: Watcher<BundleSet>, options: WatchOptions = {}): Promise<void> {
    return this.#watch('FetchX509Bundles', parseX509BundlesResponse, watcher, options)
  }

  // --- JWT-SVID profile --------------------------------------------------------------------------

  /** A JWT-SVID for `audience` (+ `extraAudiences`): the one for `subject`, else the default (first). */
  async fetchJwtSvid(params: JwtSvidParams, options: CallOptions = {}): Promise<JwtSvid> {
    return (await this.fetchJwtSvids(params, options))[0]!
  }

  /** Every JWT-SVID the agent returns for the audiences (one per identity unless `subject` is set). */
  async fetchJwtSvids(params: JwtSvidParams, options: CallOptions = {}): Promise<readonly JwtSvid[]> {
    const { audience, spiffeId } = jwtSvidRequest(params)
    const msg = await this.#unary('FetchJWTSVID', { audience, spiffeId }, options.signal)
    return parseJwtSvidResponse(msg, audience)
  }

  /** The JWT bundles (`FetchJWTBundles`), as a BundleSet of JwtBundles. */
  async fetchJwtBundles(options: CallOptions = {}): Promise<BundleSet> {
    const msg = await this.#first<JwtBundlesRequestMessage, JwtBundlesResponseMessage>(
      'FetchJWTBundles',
      {},
      options.signal,
    )
    return parseJwtBundlesResponse(msg)
  }

  /** Watches `FetchJWTBundles`. */
  watchJwtBundles(watcher: Watcher<BundleSet>, options: WatchOptions = {}): Promise<void> {
    return this.#watch('FetchJWTBundles', parseJwtBundlesResponse, watcher, options)
  }

  /**
   * Asks the agent to validate a JWT-SVID for `audience` (`ValidateJWTSVID`, Workload API §6.2.3).
   * The result's `id` is the agent's `spiffe_id`, `claims` the agent's claims; `audience` / `expiresAt`
   * / `issuedAt` are read from the token.
   *
   * @throws WorkloadApiError `ERR_WORKLOAD_API_JWT_SVID_INVALID` when the agent rejects the token
   * @throws OptionsError when `token` or `audience` is empty
   */
  async validateJwtSvid(
    token: string,
    audience: string,
    options: CallOptions = {},
  ): Promise<ValidatedJwtSvid> {
    if (typeof token !== 'string' || token === '') {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'validateJwtSvid: token must be a non-empty string')
    }
    if (typeof audience !== 'string' || audience === '') {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'validateJwtSvid: audience must be a non-empty string')
    }
    const res = await this.#unary('ValidateJWTSVID', { audience, svid: token }, options.signal, true)
    if (!res.spiffeId) {
      throw new WorkloadApiError(
        'ERR_WORKLOAD_API_MALFORMED_RESPONSE',
        'ValidateJWTSVIDResponse has no spiffe_id (mandatory field)',
      )
    }
    if (!res.claims) {
      throw new WorkloadApiError(
        'ERR_WORKLOAD_API_MALFORMED_RESPONSE',
        'ValidateJWTSVIDResponse has no claims (mandatory field)',
      )
    }
    let id: SpiffeId
    try {
      id = SpiffeId.parse(res.spiffeId)
    } catch (cause) {
      throw new WorkloadApiError(
        'ERR_WORKLOAD_API_MALFORMED_RESPONSE',
        'ValidateJWTSVIDResponse has an invalid spiffe_id',
        { cause },
      )
    }
    const read = decodeFetchedJwtSvid(token, [audience], undefined, 'the validated token')
    return Object.freeze({ ...read, id, claims: Object.freeze({ ...res.claims }) })
  }

  // --- transport ---------------------------------------------------------------------------------

  #check(rpc: string, signal: AbortSignal | undefined): void {
    if (this.#closed) throw closedError(rpc)
    if (signal?.aborted) throw abortedError(rpc, signal)
  }

  #unary<R extends 'FetchJWTSVID' | 'ValidateJWTSVID'>(
    rpc: R,
    request: Parameters<(typeof svc)[R]['requestSerialize']>[0],
    signal: AbortSignal | undefined,
    validate = false,
  ): Promise<ReturnType<(typeof svc)[R]['responseDeserialize']>> {
    type Res = ReturnType<(typeof svc)[R]['responseDeserialize']>
    this.#check(rpc, signal)
    const m = svc[rpc] as unknown as {
      path: string
      requestSerialize: (v: unknown) => Buffer
      responseDeserialize: (b: Buffer) => Res
    }
    return new Promise<Res>((resolve, reject) => {
      const onAbort = (): void => call.cancel()
      const call = this.#client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        securityHeader(),
        {},
        (err: ServiceError | null, value?: Res) => {
          signal?.removeEventListener('abort', onAbort)
          this.#calls.delete(call)
          if (this.#closed && err) reject(closedError(rpc))
          else if (err || value === undefined) reject(toWorkloadApiError(err, rpc, signal, { validate }))
          else resolve(value)
        },
      )
      this.#calls.add(call)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /**
   * Opens a server stream and calls `onMessage` for each message. Resolves when the server ends the
   * stream with OK, rejects with the raw gRPC error otherwise (or when `signal` aborts).
   */
  #stream<Req, Res>(
    rpc: StreamRpc,
    request: Req,
    signal: AbortSignal,
    onMessage: (msg: Res, stop: () => void) => void,
  ): Promise<void> {
    this.#check(rpc, signal)
    const m = svc[rpc] as unknown as {
      path: string
      requestSerialize: (v: Req) => Buffer
      responseDeserialize: (b: Buffer) => Res
    }
    return new Promise<void>((resolve, reject) => {
      let settled = false
      const call = this.#client.makeServerStreamRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        securityHeader(),
        {},
      )
      const settle = (err?: unknown): void => {
        if (settled) return
        settled = true
        signal.removeEventListener('abort', stop)
        this.#calls.delete(call)
        if (err === undefined) resolve()
        else reject(this.#closed && !signal.aborted ? closedError(rpc) : err)
      }
      this.#calls.add(call)
      const stop = (): void => {
        call.cancel()
        settle(abortedError(rpc, signal))
      }
      signal.addEventListener('abort', stop, { once: true })
      call.on('data', (msg: Res) => {
        if (!settled) onMessage(msg, stop)
      })
      call.on('error', (err: unknown) => settle(err))
      call.on('status', (s: { code: number }) => {
        if (s.code === 0) settle()
      })
    })
  }

  /** Reads the first message of a stream, then cancels it. */
  async #first<Req, Res>(rpc: StreamRpc, request: Req, signal: AbortSignal | undefined): Promise<Res> {
    this.#check(rpc, signal)
    const own = new AbortController()
    const forward = (): void => own.abort(signal?.reason)
    signal?.addEventListener('abort', forward, { once: true })
    let first: Res | undefined
    try {
      await this.#stream<Req, Res>(rpc, request, own.signal, (msg) => {
        first = msg
        own.abort(FIRST_MESSAGE)
      })
    } catch (err) {
      if (first === undefined) throw toWorkloadApiError(err, rpc, signal)
    } finally {
      signal?.removeEventListener('abort', forward)
    }
    if (first === undefined) {
      throw new WorkloadApiError('ERR_WORKLOAD_API_UNAVAILABLE', `${rpc} stream ended without a message`, {
        details: { rpc, grpcCode: 14 },
      })
    }
    return first
  }

  async #watch<Res, T>(
    rpc: StreamRpc,
    parse: (msg: Res) => T,
    watcher: Watcher<T>,
    options: WatchOptions,
  ): Promise<void> {
    if (typeof watcher?.onUpdate !== 'function') {
      throw new OptionsError('ERR_OPTIONS_INVALID', `watch ${rpc}: watcher.onUpdate must be a function`)
    }
    const backoff = new Backoff(options.backoff ? resolveBackoff(options.backoff) : this.#backoff)
    const signal = options.signal ?? new AbortController().signal
    const report = (err: WorkloadApiError): void => {
      try {
        watcher.onError?.(err)
      } catch {
        // A watcher's failure must not stop the watch.
      }
    }
    while (!signal.aborted) {
      if (this.#closed) throw closedError(rpc)
      let received = false
      let failure: WorkloadApiError
      try {
        await this.#stream<Record<string, never>, Res>(rpc, {}, signal, (msg) => {
          received = true
          backoff.reset()
          let value: T
          try {
            value = parse(msg)
          } catch (err) {
            report(toWorkloadApiError(err, rpc))
            return
          }
          try {
            watcher.onUpdate(value)
          } catch {
            // idem
          }
        })
        if (signal.aborted) return
        if (received) continue // Workload API §4.2: re-establish a terminated stream immediately.
        failure = new WorkloadApiError(
          'ERR_WORKLOAD_API_UNAVAILABLE',
          `${rpc} stream ended without a message`,
          {
            details: { rpc, grpcCode: 14 },
          },
        )
      } catch (err) {
        if (signal.aborted) return
        failure = toWorkloadApiError(err, rpc)
        if (this.#closed) throw failure
      }
      report(failure)
      if (isFatalWatchError(failure)) throw failure
      await sleep(backoff.next(), signal)
    }
  }
}

const FIRST_MESSAGE = Symbol('first message received')

function closedError(rpc: string): WorkloadApiError {
  return new WorkloadApiError('ERR_WORKLOAD_API_ABORTED', `${rpc}: the client is closed`)
}

function securityHeader(): Metadata {
  const md = new Metadata()
  md.set(WORKLOAD_API_SECURITY_HEADER, 'true')
  return md
}

function jwtSvidRequest(params: JwtSvidParams): { audience: string[]; spiffeId: string } {
  if (typeof params !== 'object' || params === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'JWT-SVID params must be an object')
  }
  if (typeof params.audience !== 'string' || params.audience === '') {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'JWT-SVID params.audience must be a non-empty string')
  }
  const extra = params.extraAudiences ?? []
  if (!Array.isArray(extra) || extra.some((a) => typeof a !== 'string' || a === '')) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'JWT-SVID params.extraAudiences must be non-empty strings')
  }
  let spiffeId = ''
  if (params.subject !== undefined) {
    const parsed = typeof params.subject === 'string' ? SpiffeId.tryParse(params.subject) : params.subject
    if (!(parsed instanceof SpiffeId)) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'JWT-SVID params.subject must be a SPIFFE ID')
    }
    spiffeId = parsed.toString()
  }
  return { audience: [params.audience, ...extra], spiffeId }
}
