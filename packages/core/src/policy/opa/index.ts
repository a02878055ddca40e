/**
 * OPA as an svidkit authorizer: a decision asked of an OPA server over its REST API, failing closed
 * on any error or timeout.
 *
 * @example
 * ```ts
 * import { createOpaAuthorizer } from '@svidkit/core/policy/opa'
 * const authorizer = createOpaAuthorizer({ url: 'http://127.0.0.1:8181', path: 'svidkit/authz/allow', timeoutMs: 200 })
 * ```
 * @module
 */
export type { OpaAuthorizer, OpaAuthorizerOptions, OpaInput } from './create-opa-authorizer.js'
export { createOpaAuthorizer } from './create-opa-authorizer.js'
