import type { CustomDecorator } from '@nestjs/common'
import { OptionsError } from '@svidkit/core/errors'
import { RequireScopesMetadata } from './route-metadata.js'

/**
 * Requires every listed scope of the caller's token (`scope` or `scp` claim of a JWT-SVID or OIDC
 * token), on a handler or on every handler of a controller (a handler's list replaces its
 * controller's). It adds to `@RequireCaller()`: both must hold. Without them the guard refuses with
 * 403 `ERR_SCOPE_MISSING` and `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` (gRPC:
 * 7 PERMISSION_DENIED).
 *
 * @throws OptionsError `ERR_OPTIONS_INVALID` when no scope is given, or one is empty or has a space.
 * @example
 * ```ts
 * @RequireScopes('orders:write')
 * @Post()
 * create(@Body() order: NewOrder) {}
 * ```
 */
export function RequireScopes(...scopes: string[]): CustomDecorator {
  if (scopes.length === 0 || scopes.some((s) => typeof s !== 'string' || s === '' || /\s/.test(s))) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      '@svidkit/nestjs: @RequireScopes() needs one or more scope names without spaces',
    )
  }
  return RequireScopesMetadata(Object.freeze([...scopes]))
}
