import { routingKey } from '../caller/http-routing.js'
import { OptionsError } from '../errors/domain-errors.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import { getCompiledPolicy, isCompiledPolicy } from './compile-policy.js'
import type { CompiledPolicy } from './compiled-policy.js'
import { createDecisionCache } from './decision-cache.js'
import { definePolicy } from './define-policy.js'
import { evaluateCompiled, routingOf } from './evaluate-policy.js'
import type { AuthorizationInput, Decision, Policy, PolicyDocument, SyncAuthorizer } from './types.js'

/**
 * Options for {@link createPolicyAuthorizer}.
 *
 * @example
 * ```ts
 * const options: PolicyAuthorizerOptions = { self: 'spiffe://example.org/ns/shop/sa/orders' }
 * const authorizer = createPolicyAuthorizer(loadPolicyFile('policy.yaml'), options)
 * ```
 */
export interface PolicyAuthorizerOptions {
  /** The service's own SPIFFE ID, used when `input.self` is `undefined` (for `sameAs: self`). */
  self?: SpiffeId | string
  /**
   * Remember each decision per caller object (and self, operation, routing), up to 256 per caller;
   * default on, and always off for a policy whose rules read token claims (`when`). A decision is a
   * pure function of those inputs, so this changes no outcome; `false` evaluates every request.
   */
  cache?: boolean
}

/**
 * The built-in policy engine as an authorizer. Synchronous.
 *
 * @example
 * ```ts
 * const authorizer: PolicyAuthorizer = createPolicyAuthorizer(loadPolicyFile('policy.yaml'))
 * authorizer.policy // the validated policy it evaluates
 * const decision = authorizer.authorize(input) // a Decision, synchronously
 * ```
 */
export interface PolicyAuthorizer extends SyncAuthorizer {
  /** The policy it evaluates. */
  readonly policy: Policy
}

/**
 * Wraps a policy (from `loadPolicy`, `loadPolicyFile` or `definePolicy`, or a plain document,
 * which is validated here) into an {@link Authorizer}. Evaluation is synchronous and takes about a
 * microsecond for a ten-rule policy; see `evaluatePolicy` for the combining rules.
 *
 * @example
 * ```ts
 * import { createPolicyAuthorizer, loadPolicyFile, toAccessDeniedError } from '@svidkit/core/policy'
 * const authorizer = createPolicyAuthorizer(loadPolicyFile('policy.yaml'), { self: 'spiffe://example.org/ns/shop/sa/orders' })
 * const decision = authorizer.authorize({ caller, self: undefined, operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' } })
 * if (decision.decision === 'deny') throw toAccessDeniedError(decision)
 * ```
 */
export function createPolicyAuthorizer(
  policy: Policy | PolicyDocument,
  options: PolicyAuthorizerOptions = {},
): PolicyAuthorizer {
  if (options === null || typeof options !== 'object') {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'createPolicyAuthorizer: options must be an object')
  }
  if (options.cache !== undefined && typeof options.cache !== 'boolean') {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'createPolicyAuthorizer: "cache" must be a boolean')
  }
  let self: SpiffeId | undefined
  if (options.self !== undefined) {
    self = typeof options.self === 'string' ? SpiffeId.tryParse(options.self) : options.self
    if (!(self instanceof SpiffeId)) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'createPolicyAuthorizer: "self" must be a SPIFFE ID')
    }
  }
  const loaded = isCompiledPolicy(policy as Policy)
    ? (policy as Policy)
    : definePolicy(policy as PolicyDocument)
  // The compiled form per routing mode, remembered here so a request costs one array read.
  const forms: CompiledPolicy[] = []
  const compiledFor = (input: AuthorizationInput): CompiledPolicy => {
    const routing = routingOf(input)
    const key = routingKey(routing)
    let c = forms[key]
    if (c === undefined) {
      c = getCompiledPolicy(loaded, routing)!
      forms[key] = c
    }
    return c
  }
  const decide = (input: AuthorizationInput): Decision => evaluateCompiled(compiledFor(input), input)
  // Decisions are remembered per caller object unless a rule reads token claims (`when`).
  const cache = options.cache === false || usesClaims(loaded) ? undefined : createDecisionCache()
  const evaluate = cache ? (input: AuthorizationInput): Decision => cache.get(input, decide) : decide
  const authorize =
    self === undefined
      ? evaluate
      : (input: AuthorizationInput): Decision =>
          evaluate(input.self === undefined ? { ...input, self } : input)
  return Object.freeze({ policy: loaded, authorize })
}

/** Whether any rule has claim conditions: their decisions are never cached. */
function usesClaims(policy: Policy): boolean {
  return policy.document.rules.some((r) => r.when !== undefined && r.when.length > 0)
}
