import { OptionsError } from '../errors/domain-errors.js'

/**
 * Exponential backoff with jitter for Workload API watches (Workload API App. A). The delay before
 * retry `n` (0-based) is `min(maxMs, initialMs * multiplier^n)`, then multiplied by a random factor in
 * `[1 - jitter, 1 + jitter]` (and capped at `maxMs` again). It resets on every received message.
 *
 * @example
 * ```ts
 * const backoff: BackoffOptions = { initialMs: 500, maxMs: 10_000, multiplier: 2, jitter: 0.1 }
 * const source = await X509Source.create({ backoff })
 * ```
 */
export interface BackoffOptions {
  /** First delay. Default 1000 ms. */
  initialMs?: number
  /** Largest delay. Default 30000 ms. */
  maxMs?: number
  /** Growth factor. Default 2. */
  multiplier?: number
  /** Relative jitter, 0 (none) to 1. Default 0.2 (±20 %). */
  jitter?: number
}

/** @internal The resolved backoff settings. */
export interface ResolvedBackoff {
  readonly initialMs: number
  readonly maxMs: number
  readonly multiplier: number
  readonly jitter: number
}

/** @internal Validates backoff options eagerly (throws `OptionsError`). */
export function resolveBackoff(options: BackoffOptions = {}): ResolvedBackoff {
  const r = {
    initialMs: options.initialMs ?? 1000,
    maxMs: options.maxMs ?? 30_000,
    multiplier: options.multiplier ?? 2,
    jitter: options.jitter ?? 0.2,
  }
  const bad = (what: string) => new OptionsError('ERR_OPTIONS_INVALID', `backoff.${what}`)
  if (!Number.isFinite(r.initialMs) || r.initialMs < 0) throw bad('initialMs must be a non-negative number')
  if (!Number.isFinite(r.maxMs) || r.maxMs < r.initialMs) throw bad('maxMs must be a number >= initialMs')
  if (!Number.isFinite(r.multiplier) || r.multiplier < 1) throw bad('multiplier must be a number >= 1')
  if (!Number.isFinite(r.jitter) || r.jitter < 0 || r.jitter > 1) throw bad('jitter must be between 0 and 1')
  return Object.freeze(r)
}

/** @internal One backoff sequence (one watch). */
export class Backoff {
  readonly #o: ResolvedBackoff
  #attempt = 0

  constructor(options: ResolvedBackoff) {
    this.#o = options
  }

  /** The next delay in milliseconds. */
  next(): number {
    const base = Math.min(this.#o.maxMs, this.#o.initialMs * this.#o.multiplier ** this.#attempt)
    if (base < this.#o.maxMs) this.#attempt++
    const factor = 1 + this.#o.jitter * (2 * Math.random() - 1)
    return Math.max(0, Math.min(this.#o.maxMs, Math.round(base * factor)))
  }

  /** Starts over from `initialMs`. */
  reset(): void {
    this.#attempt = 0
  }
}

/** @internal Resolves after `ms`, or early (without rejecting) when `signal` aborts. Leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
