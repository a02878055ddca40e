/**
 * Authorization: a declarative policy engine with Istio AuthorizationPolicy semantics (and more),
 * go-spiffe style function authorizers, and (in their own subpaths, loaded only when imported)
 * Cedar (`@svidkit/core/policy/cedar`) and OPA (`@svidkit/core/policy/opa`), all behind one
 * {@link Authorizer} interface that `verifyCaller` calls once per request.
 *
 * Combining: AUDIT rules are reported and never change the decision; the first DENY rule that
 * matches denies; then the first ALLOW rule that matches allows; otherwise an operation that any
 * ALLOW rule targets is denied, and any other gets `defaultAction` (default `deny`). Rules report
 * their `id` (`rules[<index>]` when absent) and a human reason.
 *
 * Rule parts (every part present must match; lists are ORs, fields inside an entry ANDs):
 * - `from`: `principals` (exact SPIFFE IDs, `prefix*`, `*suffix`, `*`, path templates such as
 *   `spiffe://example.org/ns/{ns}/sa/{*}`), `trustDomains`, OIDC `requestPrincipals` as
 *   `{ iss, sub }`, `channels`, and their `not…` forms;
 * - `to`: HTTP `methods`/`paths` (`{*}` one segment, `{**}` the rest) or gRPC `grpcMethods`
 *   (`/pkg.Svc/Method`, `/pkg.Svc/*`), and their `not…` forms;
 * - `scopes`: `{ allOf: [...] }` or `{ anyOf: [...] }`;
 * - `boundary`: captures of the `identity` template compared with a constant or with the
 *   service's own identity (`sameAs: self`), and `trustDomain`;
 * - `when`: conditions on verified claims (`equals`, `notEquals`, `in`, `notIn`).
 *
 * Missing or unreliable inputs fail closed (see `evaluatePolicy`): a caller whose ID does not match
 * the identity template fails every boundary condition of an ALLOW rule and meets every boundary
 * condition of a DENY rule; HTTP paths are normalized by {@link normalizeHttpPath}, and a path
 * with `.`/`..` segments or encoded slashes is never allowed by a path condition or a default.
 *
 * Policy text (`loadPolicy`, `loadPolicyFile`) is at most 1 MiB and 128 levels of nesting, refused
 * (`ERR_POLICY_INVALID`) before the YAML parser sees it. Compiled policies are cached per policy
 * object (a `WeakMap`, freed with it).
 *
 * @example
 * ```yaml
 * # policy.yaml
 * version: 1
 * defaultAction: deny
 * identity:
 *   template: /tenant/{tenant}/env/{env}/{service}
 * rules:
 *   - id: no-cross-tenant
 *     action: DENY
 *     from: [{ channels: [mtls, xfcc, jwt] }]
 *     boundary:
 *       tenant: { notSameAs: self }
 *   - id: orders-read
 *     from:
 *       - principals: ['spiffe://example.org/tenant/{*}/env/{*}/web']
 *     to:
 *       - methods: [GET]
 *         paths: ['/orders', '/orders/{*}']
 *     boundary:
 *       env: { in: [prod, staging] }
 *   - id: orders-write
 *     from: [{ requestPrincipals: [{ iss: 'https://login.example.com', sub: '*' }] }]
 *     to: [{ methods: [POST], paths: ['/orders'] }]
 *     scopes: { allOf: ['orders:write'] }
 *     when: [{ claim: email_verified, equals: true }]
 *   - id: grpc-get
 *     from: [{ trustDomains: [example.org] }]
 *     to: [{ grpcMethods: ['/orders.v1.Orders/Get'] }]
 *   - id: log-admin
 *     action: AUDIT
 *     to: [{ paths: ['/admin/{**}'] }]
 * ```
 *
 * ```ts
 * import { createPolicyAuthorizer, loadPolicyFile, toAccessDeniedError } from '@svidkit/core/policy'
 * const authorizer = createPolicyAuthorizer(loadPolicyFile('policy.yaml'))
 * const decision = authorizer.authorize({ caller, self, operation: { kind: 'http', method: 'GET', path: '/orders/42' } })
 * if (decision.decision === 'deny') throw toAccessDeniedError(decision)
 * ```
 * @module
 */
export type { CallerFromIdOptions } from '../caller/create-caller.js'
export { callerFromId } from '../caller/create-caller.js'
export type { PolicyAuthorizer, PolicyAuthorizerOptions } from './create-policy-authorizer.js'
export { createPolicyAuthorizer } from './create-policy-authorizer.js'
export { definePolicy } from './define-policy.js'
export { evaluatePolicy } from './evaluate-policy.js'
export {
  authorizeAny,
  authorizeId,
  authorizeMatcher,
  authorizeMemberOf,
  authorizeOneOf,
} from './function-authorizers.js'
export { lintPolicy } from './lint-policy.js'
export { loadPolicy } from './load-policy.js'
export { loadPolicyFile } from './load-policy-file.js'
export type { NormalizedHttpPath } from './normalize-http-path.js'
export { normalizeHttpPath } from './normalize-http-path.js'
export { policyClaimPaths } from './policy-claim-paths.js'
export { policySchema } from './policy-schema.js'
export { toAccessDeniedError } from './to-access-denied-error.js'
export type {
  AuthorizationInput,
  Authorizer,
  BoundaryCondition,
  ClaimCondition,
  ClaimValue,
  Decision,
  DefaultAction,
  GrpcOperationMatch,
  HttpOperationMatch,
  IdentitySpec,
  LoadPolicyOptions,
  OperationMatch,
  Policy,
  PolicyDocument,
  PolicyProblem,
  PolicyRule,
  PolicyRuleSummary,
  RequestPrincipalMatch,
  RuleAction,
  ScopeRequirement,
  SourceMatch,
  SyncAuthorizer,
} from './types.js'
