import { performance } from 'node:perf_hooks'

/**
 * Starts a monotonic timer; the returned function gives the elapsed milliseconds (fractional).
 * Use it to fill `latencyMs` in audit events.
 *
 * @example
 * ```ts
 * const elapsed = startTimer()
 * const decision = authorizer.authorize(input)
 * auditor.record(input, await decision, elapsed())
 * ```
 */
export function startTimer(): () => number {
  const start = performance.now()
  return () => performance.now() - start
}
