// How the guard finds the verified TLS connection of a gRPC call (internal): the SVID listener of
// `@svidkit/nestjs/grpc` registers `@svidkit/grpc`'s `tlsSocketOf` here when it is created. Without
// it (the gRPC transport on grpc-js's own listener) a call has no connection svidkit verified, and only
// the metadata channels (JWT-SVID, XFCC from a trusted proxy) can name a caller.
import type { TlsSocketLike } from '@svidkit/core/caller'
import type { GrpcHandlerCall } from './execution-target.js'

type ConnectionOf = (call: GrpcHandlerCall) => (TlsSocketLike & { remoteAddress?: string }) | undefined

let connectionOf: ConnectionOf | undefined

/** Internal: called by `SvidGrpcServer`. */
export function useGrpcConnections(lookup: ConnectionOf): void {
  connectionOf = lookup
}

/** The verified connection of `call`, when it came through an SVID listener. */
export function grpcConnectionOf(call: GrpcHandlerCall): ReturnType<ConnectionOf> {
  return connectionOf?.(call)
}
