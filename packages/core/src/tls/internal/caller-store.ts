// One SpiffeCaller per verified connection, written once in the handshake path. Not exported.
//
// The store is a WeakMap keyed by the raw TLS socket (and by the HTTP/2 session). HTTP/2 hands
// handlers Proxy objects instead of the socket (`req.socket`, `session.socket`) that forward property
// reads to the real socket, so the socket also carries the caller under a private symbol: reading it
// through any such proxy reaches the same caller without a certificate read.
import type { SpiffeCaller } from '../../caller/caller.js'

const callers = new WeakMap<object, SpiffeCaller>()
const LINK = Symbol('svidkit.tlsCaller')

/** Records the verified caller of a connection (once, at handshake time). */
export function storeCaller(socket: object, caller: SpiffeCaller): void {
  callers.set(socket, caller)
  Object.defineProperty(socket, LINK, { value: caller, enumerable: false, configurable: true })
}

/** Maps another object of the same connection (an HTTP/2 session) to its caller. */
export function linkCaller(target: object, caller: SpiffeCaller): void {
  callers.set(target, caller)
}

/** The caller stored for `target`, directly or through a forwarding proxy of its socket. */
export function lookupCaller(target: object): SpiffeCaller | undefined {
  const hit = callers.get(target)
  if (hit) return hit
  const linked = (target as { [LINK]?: unknown })[LINK]
  return typeof linked === 'object' && linked !== null ? (linked as SpiffeCaller) : undefined
}
