import type { Caller } from '@svidkit/core/caller'

// The verified caller of each call, keyed by the call's own `Metadata` object: grpc-js hands that very
// object to the handler (`call.metadata`, Nest's `getArgByIndex(1)`), and nothing a client sends can
// make another object, so no metadata key can forge a caller.
const callers = new WeakMap<object, Caller>()

/** Records the caller of the call whose metadata is `metadata`. Internal (used by the interceptor). */
export function attachCaller(metadata: object, caller: Caller): void {
  callers.set(metadata, caller)
}

/**
 * The verified caller of a gRPC call, as {@link svidInterceptor} attached it: pass the handler's call
 * (`ServerUnaryCall`, `ServerReadableStream`, `ServerWritableStream`, `ServerDuplexStream`) or its
 * `Metadata`. `undefined` on methods that are public, for optional authentication without credentials,
 * and for calls the interceptor did not authenticate. Typed: narrow on `channel` (`'oidc'` has a
 * `principal`, the others a `spiffeId`). It is keyed by the call's `Metadata` object, never read from a
 * metadata value, so a client cannot forge it.
 *
 * @example
 * ```ts
 * import { callerOf } from '@svidkit/grpc'
 * const handlers = {
 *   get(call, callback) {
 *     const caller = callerOf(call)! // set: the method requires a caller
 *     callback(null, { who: caller.spiffeId?.toString() })
 *   },
 * }
 * ```
 */
export function callerOf(call: { readonly metadata: object } | object): Caller | undefined {
  if (typeof call !== 'object' || call === null) return undefined
  const direct = callers.get(call)
  if (direct) return direct
  const metadata = (call as { metadata?: unknown }).metadata
  return typeof metadata === 'object' && metadata !== null ? callers.get(metadata) : undefined
}
