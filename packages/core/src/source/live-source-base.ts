// The lifecycle plumbing every svidkit source shares (events, waitUntilUpdated, asyncDispose), in one
// place. Not exported from the package.
import type { LiveSource, SourceEventMap } from './live-source.js'
import type { SourceEvents } from './source-events.js'

/**
 * @internal The base of svidkit's long-lived sources: `on`/`off`/`waitUntilUpdated` over the source's
 * {@link SourceEvents}, and `Symbol.asyncDispose` as `close()`. Subclasses say where their events are,
 * whether they are closed, whether they are healthy, and how to close.
 */
export abstract class LiveSourceBase implements LiveSource {
  /** The source's events. */
  protected abstract sourceEvents(): SourceEvents
  /** Whether `close()` has been called. */
  protected abstract isClosed(): boolean

  abstract get healthy(): boolean

  abstract close(): Promise<void>

  waitUntilUpdated(signal?: AbortSignal): Promise<void> {
    return this.sourceEvents().waitUntilUpdated(signal, this.isClosed())
  }

  on<E extends keyof SourceEventMap>(event: E, listener: (...args: SourceEventMap[E]) => void): this {
    this.sourceEvents().on(event, listener)
    return this
  }

  off<E extends keyof SourceEventMap>(event: E, listener: (...args: SourceEventMap[E]) => void): this {
    this.sourceEvents().off(event, listener)
    return this
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}
