import type { CustomDecorator } from '@nestjs/common'
import { AccessMetadata } from './route-metadata.js'

/**
 * Optional authentication for a handler or a controller: a request without any credentials gets
 * through with no caller (`@Caller()` is `undefined`); a request with credentials must present valid
 * ones (a bad token or certificate is still refused), and then meets the handler's requirements.
 *
 * @example
 * ```ts
 * @OptionalCaller()
 * @Get('catalog')
 * catalog(@Caller() caller: Caller | undefined) {
 *   return caller ? personalised(caller) : everything()
 * }
 * ```
 */
export function OptionalCaller(): CustomDecorator {
  return AccessMetadata('optional')
}
