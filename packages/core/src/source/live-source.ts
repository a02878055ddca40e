/**
 * Events every long-lived source emits.
 *
 * @example
 * ```ts
 * source.on('update', () => console.log('new SVIDs or bundles'))
 * source.on('error', (error) => console.warn('watch failed, still serving the last state:', error.message))
 * const events: (keyof SourceEventMap)[] = ['update', 'error']
 * ```
 */
export interface SourceEventMap {
  /** New SVIDs or bundles were applied. */
  update: []
  /** A watch failed; the source keeps serving its last good state and retries. */
  error: [error: Error]
}

/**
 * The lifecycle every long-lived source shares (X509Source, JwtSource, BundleSource, FileSource,
 * the federation source): it is updated in the background, tells whether it is healthy, and is closed
 * with `close()` or `await using`.
 *
 * @example
 * ```ts
 * await using source = await X509Source.create()
 * source.on('update', () => console.log('rotated'))
 * ```
 */
export interface LiveSource {
  /** Whether the source has fresh data: its watch is connected and nothing it serves has expired. */
  readonly healthy: boolean
  /** Resolves on the next update after the call; rejects if `signal` aborts or the source closes. */
  waitUntilUpdated(signal?: AbortSignal): Promise<void>
  /** Registers a listener. */
  on<E extends keyof SourceEventMap>(event: E, listener: (...args: SourceEventMap[E]) => void): this
  /** Removes a listener. */
  off<E extends keyof SourceEventMap>(event: E, listener: (...args: SourceEventMap[E]) => void): this
  /** Stops every watch and timer. Idempotent. Afterwards every getter throws `ERR_SOURCE_CLOSED`. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
