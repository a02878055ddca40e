// gRPC metadata → neutral CallerCredentials, beside the Node-HTTP extraction
// (credentials-from-node-request.ts). Structural types only: core never imports the application's
// grpc-js, whose `Metadata` and call objects fit these shapes.
import type { CallerCredentials, CallerVerifier } from '../pipeline/caller-verifier.js'
import type { TlsSocketLike } from '../tls/peer-certificate-chain.js'

/**
 * The part of grpc-js `Metadata` svidkit reads: `get(key)` returns every value of a key, in order.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js'
 * const metadata: GrpcMetadataLike = new Metadata()
 * ```
 */
export interface GrpcMetadataLike {
  get(key: string): readonly unknown[]
}

/**
 * One gRPC call as an adapter sees it: its full method, its metadata, and what it knows about the
 * connection.
 *
 * @example
 * ```ts
 * const call: GrpcCallCredentialsInput = {
 *   method: '/orders.v1.Orders/Get',
 *   metadata,
 *   socket: tlsSocket, // the connection's TLS socket, when the adapter owns the listener
 * }
 * ```
 */
export interface GrpcCallCredentialsInput {
  /** The full method, `/package.Service/Method`. */
  readonly method: string
  /** The call's metadata (request headers). */
  readonly metadata: GrpcMetadataLike
  /** The TLS socket of the call's connection (its peer chain is verified once per connection). */
  readonly socket?: TlsSocketLike | undefined
  /** The direct peer's address; default `socket.remoteAddress`, else the address part of `peer`. */
  readonly peerAddress?: string | undefined
  /** grpc-js `call.getPeer()` (`ip:port`, `[ip6]:port` or `ip6:port`): the last resort for the address. */
  readonly peer?: string | undefined
}

/** The address part of a grpc-js `getPeer()` string, without IPv6 brackets; `undefined` if none. */
function addressOfPeer(peer: string | undefined): string | undefined {
  if (typeof peer !== 'string') return undefined
  const colon = peer.lastIndexOf(':')
  if (colon <= 0) return undefined
  const host = peer.slice(0, colon)
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/**
 * The neutral credentials of one gRPC call (operation `{ kind: 'grpc', method }`), for
 * `verifier.verifyCaller`: the TLS socket and peer address the adapter knows, and from the metadata
 * the `authorization` value(s), every `x-forwarded-client-cert` value and the configured
 * forwarded-certificate keys — the same names `credentialsFromNodeRequest` reads from HTTP headers
 * (`verifier.headers`), so a channel that is off is not even read. Binary (`-bin`) values
 * are never credentials and are skipped.
 *
 * @example
 * ```ts
 * import { credentialsFromGrpcCall } from '@svidkit/core/adapter'
 * const credentials = credentialsFromGrpcCall(verifier, {
 *   method: call.getPath(),
 *   metadata: call.metadata,
 *   socket,
 *   peer: call.getPeer(),
 * })
 * const { caller } = await verifier.verifyCaller(credentials)
 * ```
 */
export function credentialsFromGrpcCall(
  verifier: Pick<CallerVerifier, 'headers'>,
  call: GrpcCallCredentialsInput,
): CallerCredentials {
  const { authorization, xfcc, forwardedCert, forwardedCertChain } = verifier.headers
  const { metadata, socket } = call
  const read = (key: string | undefined): string | readonly string[] | undefined => {
    if (key === undefined) return undefined
    const values = metadata.get(key)
    if (values.length === 0) return undefined
    if (values.length === 1) return typeof values[0] === 'string' ? values[0] : undefined
    const lines = values.filter((v): v is string => typeof v === 'string')
    return lines.length === 0 ? undefined : lines
  }
  return {
    operation: { kind: 'grpc', method: call.method },
    socket,
    peerAddress: call.peerAddress ?? socket?.remoteAddress ?? addressOfPeer(call.peer),
    authorization: read(authorization),
    xfcc: read(xfcc),
    forwardedCert: read(forwardedCert),
    forwardedCertChain: read(forwardedCertChain),
  }
}
