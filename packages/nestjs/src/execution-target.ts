// Where the request of a Nest execution context is, per transport (internal). Structural types only:
// the platforms (Express, Fastify), grpc-js and GraphQL are never imported.
import type { ExecutionContext } from '@nestjs/common'
import type { GrpcMetadataLike, NodeHttpRequestLike } from '@svidkit/core/adapter'

/** The parts of a grpc-js handler call read here (unary, streams, `@GrpcStreamCall`'s call). */
export interface GrpcHandlerCall {
  readonly metadata: GrpcMetadataLike & object
  getPath(): string
  getPeer(): string
}

/** A platform request: Express's `Request` (a Node request) or Fastify's `FastifyRequest` (`raw`). */
export interface PlatformRequest extends Partial<NodeHttpRequestLike> {
  readonly raw?: NodeHttpRequestLike & object
}

export type ExecutionTarget =
  | {
      readonly kind: 'http'
      /** The platform's request (Express `Request`, `FastifyRequest`). */
      readonly request: PlatformRequest & object
      /** The Node request under it: the key the caller is kept under. */
      readonly raw: NodeHttpRequestLike & object
      readonly response: unknown
    }
  | { readonly kind: 'grpc'; readonly call: GrpcHandlerCall }
  | { readonly kind: 'unsupported'; readonly type: string }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

function isGrpcCall(v: unknown): v is GrpcHandlerCall {
  return (
    isObject(v) &&
    typeof v.getPath === 'function' &&
    typeof v.getPeer === 'function' &&
    isObject(v.metadata) &&
    typeof (v.metadata as { get?: unknown }).get === 'function'
  )
}

function httpTarget(request: unknown, response: unknown): ExecutionTarget | undefined {
  if (!isObject(request)) return undefined
  const raw = (request as PlatformRequest).raw ?? request
  if (!isObject(raw) || !isObject((raw as { headers?: unknown }).headers)) return undefined
  return {
    kind: 'http',
    request: request as PlatformRequest & object,
    raw: raw as NodeHttpRequestLike & object,
    response,
  }
}

/**
 * The request of `context`: HTTP on Express or Fastify (`switchToHttp()`), a GraphQL resolver's HTTP
 * request (`getArgByIndex(2)`: `req`/`res` on Apollo with Express, `request`/`reply` on Mercurius), or
 * a gRPC call (`[request, metadata, call]` for unary, server-streaming and `@GrpcStreamMethod`
 * handlers, `[call]` or `[call, callback]` for `@GrpcStreamCall`).
 */
export function executionTargetOf(context: ExecutionContext): ExecutionTarget {
  const type = context.getType<string>()
  if (type === 'http') {
    // `switchToHttp()`'s getters are these two arguments (it builds new closures on every call).
    return httpTarget(context.getArgByIndex(0), context.getArgByIndex(1)) ?? { kind: 'unsupported', type }
  }
  if (type === 'rpc') {
    const args = context.getArgs()
    const call = isGrpcCall(args[2]) ? args[2] : isGrpcCall(args[0]) ? args[0] : undefined
    return call ? { kind: 'grpc', call } : { kind: 'unsupported', type: 'rpc (not gRPC)' }
  }
  if (type === 'graphql') {
    const gql = context.getArgByIndex(2) as Record<string, unknown> | undefined
    const target = isObject(gql) ? httpTarget(gql.req ?? gql.request, gql.res ?? gql.reply) : undefined
    return target ?? { kind: 'unsupported', type }
  }
  return { kind: 'unsupported', type }
}
