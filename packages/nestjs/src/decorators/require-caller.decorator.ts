import type { CustomDecorator } from '@nestjs/common'
import { type RouteRequirement, validateRoute } from '@svidkit/core/adapter'
import { OptionsError } from '@svidkit/core/errors'
import { RequireCallerMetadata } from './route-metadata.js'

/**
 * What a handler, or every handler of a controller, asks of its caller: allowed SPIFFE IDs or
 * templates (`callers`), `trustDomains`, `channels`, `scopes`, `boundary` conditions over
 * identity-template captures, claim conditions (`when`) — core's `RouteRequirement`, where every
 * condition given must hold, exactly as in a policy rule. Checked now, when the class is declared
 * (boundary keys against the verifier's identity templates when the application starts). A handler's
 * `@RequireCaller()` replaces its controller's; `@RequireScopes()` adds scopes to either.
 *
 * @throws OptionsError `ERR_OPTIONS_INVALID` for an invalid requirement, `public` or `optional` (use
 * `@Public()` / `@OptionalCaller()`), or no condition at all.
 * @example
 * ```ts
 * @RequireCaller({ callers: ['spiffe://example.org/ns/shop/sa/{*}'], boundary: { namespace: { sameAs: 'self' } } })
 * @Controller('orders')
 * export class OrdersController {
 *   @RequireCaller({ callers: ['spiffe://example.org/ns/ops/sa/admin'] })
 *   @Delete(':id')
 *   remove(@Param('id') id: string) {}
 * }
 * ```
 */
export function RequireCaller(requirement: RouteRequirement): CustomDecorator {
  const what = '@svidkit/nestjs: @RequireCaller()'
  validateRoute(requirement, what)
  if (requirement.public !== undefined || requirement.optional !== undefined) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `${what}: "public" and "optional" are not conditions: use @Public() or @OptionalCaller()`,
    )
  }
  const { id: _id, ...conditions } = requirement
  if (Object.keys(conditions).length === 0) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: needs at least one condition`)
  }
  return RequireCallerMetadata(Object.freeze({ ...requirement }))
}
