import type { ExecutionContext } from '@nestjs/common'
import type { Caller } from '@svidkit/core/caller'
import { executionTargetOf } from './execution-target.js'

// The verified caller of each request, keyed by an object the client cannot make: the Node request
// (Fastify's `request.raw`, Express's `req`) or the gRPC call's own `Metadata` object. Nothing is
// read from a header or a metadata value, so no client can set a caller.
const callers = new WeakMap<object, Caller>()

/** Records the caller of the request or call keyed by `key`. Internal (used by the guard). */
export function attachCaller(key: object, caller: Caller): void {
  callers.set(key, caller)
}

/** The key a request's caller is kept under, from anything a handler or another enhancer holds. */
function keyOf(target: object): object | undefined {
  if (callers.has(target)) return target
  const t = target as { raw?: unknown; metadata?: unknown }
  if (typeof t.raw === 'object' && t.raw !== null) return t.raw
  if (typeof t.metadata === 'object' && t.metadata !== null) return t.metadata
  return undefined
}

function isExecutionContext(v: object): v is ExecutionContext {
  const c = v as Partial<ExecutionContext>
  return (
    typeof c.getType === 'function' && typeof c.getArgs === 'function' && typeof c.getHandler === 'function'
  )
}

/**
 * The caller `SvidkitGuard` verified for a request: pass an `ExecutionContext` (in an interceptor,
 * a filter or another guard), the platform request (Express `Request`, `FastifyRequest`), or a gRPC
 * call or its `Metadata`. `undefined` on `@Public()` handlers, for `@OptionalCaller()` without
 * credentials, and before the guard ran. Handlers use `@Caller()`. It is kept by the request object
 * itself, never read from a header or metadata, so no client can set it.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class CallerLogging implements NestInterceptor {
 *   intercept(context: ExecutionContext, next: CallHandler) {
 *     console.log('caller', callerOf(context)?.spiffeId?.toString())
 *     return next.handle()
 *   }
 * }
 * ```
 */
export function callerOf(target: ExecutionContext | object): Caller | undefined {
  if (typeof target !== 'object' || target === null) return undefined
  if (isExecutionContext(target)) {
    const t = executionTargetOf(target)
    if (t.kind === 'http') return callers.get(t.raw)
    if (t.kind === 'grpc') return callers.get(t.call.metadata)
    return undefined
  }
  const key = keyOf(target)
  return key === undefined ? undefined : callers.get(key)
}
