/**
 * Cedar as an svidkit authorizer (`@cedar-policy/cedar-wasm`, an optional peer dependency loaded
 * only by this subpath): callers, the service and the operation mapped to Cedar principal, resource,
 * action and context.
 *
 * @example
 * ```ts
 * import { createCedarAuthorizer } from '@svidkit/core/policy/cedar'
 * const authorizer = createCedarAuthorizer({ policies: readFileSync('orders.cedar', 'utf8') })
 * ```
 * @module
 */
export type {
  CedarAuthorizerOptions,
  CedarEntity,
  CedarEntityUid,
  CedarModule,
  CedarValue,
} from './create-cedar-authorizer.js'
export { createCedarAuthorizer } from './create-cedar-authorizer.js'
