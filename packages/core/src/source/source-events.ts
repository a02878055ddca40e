// The event plumbing shared by svidkit's own long-lived sources (StaticSource, FileSource, the
// federation source): typed listeners, `waitUntilUpdated`, and an `error` event that never crashes the
// process when nobody listens (unlike EventEmitter). Not exported from the package.
import { OptionsError, SourceError } from '../errors/domain-errors.js'
import type { SourceEventMap } from './live-source.js'

type Listener<E extends keyof SourceEventMap> = (...args: SourceEventMap[E]) => void

/** @internal */
export class SourceEvents {
  readonly #listeners: { [E in keyof SourceEventMap]: Set<Listener<E>> } = {
    update: new Set(),
    error: new Set(),
  }
  readonly #waiters = new Set<{ resolve: () => void; reject: (err: unknown) => void }>()

  on<E extends keyof SourceEventMap>(event: E, listener: Listener<E>): void {
    this.#set(event).add(listener)
  }

  off<E extends keyof SourceEventMap>(event: E, listener: Listener<E>): void {
    this.#set(event).delete(listener)
  }

  #set<E extends keyof SourceEventMap>(event: E): Set<Listener<E>> {
    const set = this.#listeners[event] as Set<Listener<E>> | undefined
    if (!set) throw new OptionsError('ERR_OPTIONS_INVALID', `unknown source event "${String(event)}"`)
    return set
  }

  /** Resolves every pending `waitUntilUpdated`, then calls the `update` listeners. */
  emitUpdate(): void {
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const w of waiters) w.resolve()
    for (const l of [...this.#listeners.update]) call(() => l())
  }

  /** Calls the `error` listeners; without any, the error is dropped (the source keeps serving). */
  emitError(error: Error): void {
    for (const l of [...this.#listeners.error]) call(() => l(error))
  }

  waitUntilUpdated(signal: AbortSignal | undefined, closed: boolean): Promise<void> {
    if (closed) return Promise.reject(new SourceError('ERR_SOURCE_CLOSED', 'source is closed'))
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter)
        reject(signal?.reason)
      }
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
        reject: (err: unknown) => {
          signal?.removeEventListener('abort', onAbort)
          reject(err)
        },
      }
      this.#waiters.add(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Rejects every pending waiter with `ERR_SOURCE_CLOSED` and drops all listeners. */
  close(): void {
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const w of waiters) w.reject(new SourceError('ERR_SOURCE_CLOSED', 'source is closed'))
    this.#listeners.update.clear()
    this.#listeners.error.clear()
  }
}

// A throwing listener must not corrupt the source's state: rethrow it outside the current call stack,
// where it surfaces as an uncaught exception exactly like an EventEmitter listener's would.
function call(fn: () => void): void {
  try {
    fn()
  } catch (err) {
    queueMicrotask(() => {
      throw err
    })
  }
}
