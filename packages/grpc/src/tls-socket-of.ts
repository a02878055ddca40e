import type { TLSSocket } from 'node:tls'
import { TlsError } from '@svidkit/core/errors'

/**
 * What {@link tlsSocketOf} reads from a call: grpc-js interceptor calls (`getConnectionInfo()`, since
 * grpc-js 1.14) and handler calls (`ServerUnaryCall`, streams: `getPeer()`) both fit.
 *
 * @example
 * ```ts
 * const call: GrpcCallConnection = handlerCall // a ServerUnaryCall, a stream, or an interceptor's call
 * ```
 */
export interface GrpcCallConnection {
  /** `ip:port` of the peer (every grpc-js version). */
  getPeer(): string
  /** Both ends of the connection (grpc-js ≥ 1.14, interceptor calls). */
  getConnectionInfo?(): {
    localAddress?: string | undefined
    localPort?: number | undefined
    remoteAddress?: string | undefined
    remotePort?: number | undefined
  }
}

interface Tracked {
  readonly socket: TLSSocket
  readonly localAddress: string | undefined
  readonly localPort: number | undefined
}

// Every live connection accepted by `serveSvid`, by the peer's `ip:port` (the form of grpc-js
// `getPeer()`). Entries are added when the TLS connection is handed to grpc-js and removed when it
// closes, so only sockets svidkit owns are ever found here.
const connections = new Map<string, Tracked[]>()

function peerKey(address: string | undefined, port: number | undefined): string | undefined {
  if (address === undefined || address === '') return undefined
  return port ? `${address}:${port}` : address
}

/** Records a connection of an SVID listener until it closes. Internal (used by `serveSvid`). */
export function trackConnection(socket: TLSSocket): void {
  const key = peerKey(socket.remoteAddress, socket.remotePort)
  if (key === undefined) return
  const entry: Tracked = { socket, localAddress: socket.localAddress, localPort: socket.localPort }
  const list = connections.get(key)
  if (list) list.push(entry)
  else connections.set(key, [entry])
  socket.once('close', () => {
    const current = connections.get(key)
    if (!current) return
    const rest = current.filter((e) => e !== entry)
    if (rest.length === 0) connections.delete(key)
    else connections.set(key, rest)
  })
}

/**
 * The TLS socket of the connection a gRPC call came on, when that connection was accepted by
 * {@link serveSvid}; `undefined` for any other connection (another port of the server, a plaintext
 * listener). Pass it to core's `credentialsFromGrpcCall(verifier, { method, metadata, socket })`: its verified
 * caller (`getTlsCaller(socket)`) or its peer chain is what the mTLS channel reads. This is the
 * "verified connection → caller" step of {@link svidInterceptor}, for code outside it (a NestJS guard).
 *
 * The connection is found by both of its ends (`getConnectionInfo()`, grpc-js ≥ 1.14). With older
 * grpc-js, and for handler calls, which only have `getPeer()`, it is found by the peer's `ip:port`:
 * if two live svidkit connections share it (only possible across several listeners), this throws
 * `ERR_INTERNAL` rather than guess.
 *
 * @throws TlsError `ERR_INTERNAL` when the connection cannot be told apart from another one.
 * @example
 * ```ts
 * import { credentialsFromGrpcCall } from '@svidkit/core/adapter'
 * import { tlsSocketOf } from '@svidkit/grpc'
 * const socket = tlsSocketOf(call) // in a handler: call is the ServerUnaryCall
 * const credentials = credentialsFromGrpcCall(verifier, { method: call.getPath(), metadata: call.metadata, socket })
 * ```
 */
export function tlsSocketOf(call: GrpcCallConnection): TLSSocket | undefined {
  const info = typeof call.getConnectionInfo === 'function' ? call.getConnectionInfo() : undefined
  const key = info ? peerKey(info.remoteAddress, info.remotePort) : call.getPeer()
  if (key === undefined) return undefined
  const list = connections.get(key)
  if (list === undefined) return undefined
  if (info) {
    for (const e of list) {
      if (e.localPort === info.localPort && e.localAddress === info.localAddress) return e.socket
    }
    return undefined
  }
  if (list.length === 1) return list[0]!.socket
  throw new TlsError(
    'ERR_INTERNAL',
    `two svidkit connections come from ${key}; this grpc-js call cannot tell them apart (use grpc-js >= 1.14 and an interceptor)`,
  )
}
