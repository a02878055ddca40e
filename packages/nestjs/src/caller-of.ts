import type { ExecutionContext } from '@nestjs/common'
import type { Caller } from '@svidkit/core/caller'
import { executionTargetOf } from './execution-target.js'

// The verified caller of each request, kept on an object the client cannot make, under a symbol no
// other module holds: the Node request (Fastify's `request.raw`, Express's `req`) or the gRPC call's
// own `Metadata` object. Nothing is read from a header or a metadata value, so no client can set a
// caller. (A symbol property, not a WeakMap: one per request, without the WeakMap's GC cost.)
const kCaller = Symbol('@svidkit/nestjs.caller')

type Holder = { [kCaller]?: Caller }

/** Records the caller of the request or call held by `key`. Internal (used by the guard). */
export function attachCaller(key: object, caller: Caller): void {
  ;(key as Holder)[kCaller] = caller
}

/** The caller held by `key`, if any. Internal. */
export function callerHeldBy(key: object): Caller | undefined {
  return (key as Holder)[kCaller]
}

/** The caller of anything a handler or another enhancer holds: a request, its `raw`, a call, its metadata. */
function callerOfObject(target: object): Caller | undefined {
  const own = (target as Holder)[kCaller]
  if (own !== undefined) return own
  const t = target as { raw?: unknown; metadata?: unknown }
  if (typeof t.raw === 'object' && t.raw !== null) return (t.raw as Holder)[kCaller]
  if (typeof t.metadata === 'object' && t.metadata !== null) return (t.metadata as Holder)[kCaller]
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
    if (t.kind === 'http') return callerHeldBy(t.raw)
    if (t.kind === 'grpc') return callerHeldBy(t.call.metadata)
    return undefined
  }
  return callerOfObject(target)
}
