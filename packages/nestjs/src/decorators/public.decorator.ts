import type { CustomDecorator } from '@nestjs/common'
import { AccessMetadata } from './route-metadata.js'

/**
 * Marks a handler, or every handler of a controller, as public: `SvidkitGuard` does not authenticate
 * it and does not even read its credentials (health checks, metrics). On a handler it overrides the
 * controller's `@RequireCaller()` and `@RequireScopes()`; on a controller, a handler's own requirement
 * makes that handler require a caller again.
 *
 * @example
 * ```ts
 * @Controller()
 * export class HealthController {
 *   @Public()
 *   @Get('healthz')
 *   health() {
 *     return 'ok'
 *   }
 * }
 * ```
 */
export function Public(): CustomDecorator {
  return AccessMetadata('public')
}
