// `RpcException` of the application's own @nestjs/microservices (internal): Nest's RPC exception filter
// passes on only instances of that class, so the guard must throw one; the package is an optional peer,
// loaded the first time an RPC call is refused (an application with an RPC context has it).
import type { GrpcErrorStatus } from '@svidkit/core/errors'

type RpcExceptionClass = new (error: { code: number; message: string }) => Error

let loading: Promise<RpcExceptionClass> | undefined

function rpcExceptionClass(): Promise<RpcExceptionClass> {
  loading ??= import('@nestjs/microservices').then(
    (m) => (m as unknown as { RpcException: RpcExceptionClass }).RpcException,
  )
  return loading
}

/** Rejects with an `RpcException({ code, message })` carrying `status` (the client receives that code). */
export async function throwRpcStatus(status: GrpcErrorStatus): Promise<never> {
  const RpcException = await rpcExceptionClass()
  throw new RpcException({ code: status.code, message: status.details })
}
