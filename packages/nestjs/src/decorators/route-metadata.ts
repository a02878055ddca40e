// The metadata the svidkit decorators write (internal): typed reflectable decorators with fixed keys,
// so every copy of the package (ESM and CJS) reads what any copy wrote.

import { Reflector } from '@nestjs/core'
import type { RouteRequirement } from '@svidkit/core/adapter'

/** `public` (`@Public()`) or `optional` (`@OptionalCaller()`). */
export type RouteAccess = 'public' | 'optional'

export const AccessMetadata = Reflector.createDecorator<RouteAccess>({ key: 'svidkit:access' })

/** A requirement's conditions, as `@RequireCaller()` gives them. */
export const RequireCallerMetadata = Reflector.createDecorator<RouteRequirement>({
  key: 'svidkit:require-caller',
})

/** The scopes of `@RequireScopes()`. */
export const RequireScopesMetadata = Reflector.createDecorator<readonly string[]>({
  key: 'svidkit:require-scopes',
})
