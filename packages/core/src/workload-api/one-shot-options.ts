import type { CallOptions, WorkloadApiClient, WorkloadApiClientOptions } from './workload-api-client.js'

/**
 * Options of the one-shot helpers (`fetchX509Svid()` …): where to connect (or an existing client to
 * reuse, which is left open) and an `AbortSignal`.
 *
 * @example
 * ```ts
 * const opts: OneShotOptions = { address: 'unix:///run/spire/agent.sock', signal: AbortSignal.timeout(5000) }
 * ```
 */
export interface OneShotOptions extends WorkloadApiClientOptions, CallOptions {
  /** Reuse this client instead of opening (and closing) one. */
  client?: WorkloadApiClient | undefined
}
