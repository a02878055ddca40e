import type { SpiffeCaller } from '../caller/caller.js'
import { lookupCaller } from './internal/caller-store.js'

/**
 * Anything `getTlsCaller` can find the connection of: the TLS socket, an HTTP/1.1 request
 * (`req.socket`), an HTTP/2 compat request (`req.socket` proxy, `req.stream`), an HTTP/2 stream or
 * session, or a framework request exposing one of these (`request.raw` for Fastify).
 *
 * @example
 * ```ts
 * const target: TlsCallerTarget = fastifyRequest.raw
 * ```
 */
export type TlsCallerTarget = object

interface Carrier {
  socket?: unknown
  session?: unknown
  stream?: { session?: unknown } | null
  raw?: unknown
}

/**
 * The verified peer of a connection accepted by a server configured with `createMtlsServerConfig`:
 * a `SpiffeCaller` with channel `mtls`, the peer's SPIFFE ID and trust domain, `captures` from the
 * identity template, `scopes: []`, the leaf `certificate` and `expiresAt`. It was built once, when the
 * handshake was verified; this is a `WeakMap` lookup, not a certificate read, so it is cheap on every
 * request. Returns `undefined` for anything that did not come through such a server.
 *
 * @example
 * ```ts
 * import { getTlsCaller } from '@svidkit/core/tls'
 * https.createServer(mtls.serverOptions, (req, res) => {
 *   const caller = getTlsCaller(req)! // always set: unverified peers never reach the handler
 *   res.end(`hello ${caller.spiffeId}`)
 * })
 * ```
 */
export function getTlsCaller(target: TlsCallerTarget | null | undefined): SpiffeCaller | undefined {
  if (typeof target !== 'object' || target === null) return undefined
  const t = target as Carrier
  try {
    const direct = lookupCaller(target)
    if (direct) return direct
    if (typeof t.socket === 'object' && t.socket !== null) {
      const viaSocket = lookupCaller(t.socket)
      if (viaSocket) return viaSocket
    }
    const session = t.session ?? t.stream?.session
    if (typeof session === 'object' && session !== null) {
      const viaSession = lookupCaller(session)
      if (viaSession) return viaSession
    }
    if (typeof t.raw === 'object' && t.raw !== null && t.raw !== target) return getTlsCaller(t.raw)
  } catch {
    // An HTTP/2 socket proxy throws once its session is gone.
  }
  return undefined
}
