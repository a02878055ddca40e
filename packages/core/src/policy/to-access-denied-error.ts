import { AccessDeniedError } from '../errors/domain-errors.js'
import { SvidkitError } from '../errors/svidkit-error.js'
import type { Decision } from './types.js'

/**
 * Turns a deny {@link Decision} into the error adapters throw: `AccessDeniedError` with code
 * `ERR_ACCESS_DENIED` (HTTP 403, gRPC PERMISSION_DENIED), or `ERR_SCOPE_MISSING` when the deny
 * comes from a missing scope (HTTP 403 with `WWW-Authenticate: Bearer error="insufficient_scope",
 * scope="…"`). The decision's reason is the error's reason; `details` holds
 * `{ rule, decision, requiredScopes? }`.
 *
 * @example
 * ```ts
 * const decision = await authorizer.authorize(input)
 * if (decision.decision === 'deny') throw toAccessDeniedError(decision)
 * ```
 */
export function toAccessDeniedError(decision: Decision): AccessDeniedError {
  if (decision?.decision !== 'deny') {
    throw new SvidkitError('ERR_INTERNAL', 'toAccessDeniedError needs a deny decision')
  }
  const scopes = decision.requiredScopes
  if (scopes && scopes.length > 0) {
    return new AccessDeniedError('ERR_SCOPE_MISSING', decision.reason, {
      details: { rule: decision.rule, decision, requiredScopes: scopes },
    })
  }
  return new AccessDeniedError('ERR_ACCESS_DENIED', decision.reason, {
    details: { rule: decision.rule, decision },
  })
}
