import { createParamDecorator, type ExecutionContext } from '@nestjs/common'
import type { Caller as SvidkitCaller } from '@svidkit/core/caller'
import { callerOf } from '../caller-of.js'

/**
 * Core's `Caller`, under the decorator's name, so one import types the parameter too.
 *
 * @example
 * ```ts
 * import { Caller } from '@svidkit/nestjs'
 * whoami(@Caller() caller: Caller) {}
 * ```
 */
export type Caller = SvidkitCaller

/**
 * The verified caller of the request, as a handler parameter: typed core `Caller` (narrow on
 * `channel`: `'oidc'` has a `principal`, the others a `spiffeId`), `undefined` on `@Public()`
 * handlers and for `@OptionalCaller()` without credentials. Works on HTTP (Express, Fastify), GraphQL
 * and gRPC handlers. The guard keeps the caller by the request object itself, so no header or
 * metadata key can set it.
 *
 * @example
 * ```ts
 * @Get(':id')
 * find(@Param('id') id: string, @Caller() caller: Caller) {
 *   return { id, servedTo: caller.channel === 'oidc' ? caller.principal.sub : caller.spiffeId.toString() }
 * }
 * ```
 */
export const Caller: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => callerOf(context),
)
