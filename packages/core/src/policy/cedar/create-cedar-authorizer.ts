import { createRequire } from 'node:module'
import type { Caller } from '../../caller/caller.js'
import { OptionsError, PolicyError } from '../../errors/domain-errors.js'
import { isSvidkitError } from '../../errors/svidkit-error.js'
import { matchPathTemplate } from '../../spiffe-id/matcher.js'
import type { SpiffeId } from '../../spiffe-id/spiffe-id.js'
import { handlerMethod, normalizeHttpPath } from '../normalize-http-path.js'
import type { AuthorizationInput, Decision, IdentitySpec, SyncAuthorizer } from '../types.js'

/**
 * A Cedar JSON value (`CedarValueJson` in cedar-wasm).
 *
 * @example
 * ```ts
 * const attrs: Record<string, CedarValue> = { team: 'payments', level: 3, oncall: true, regions: ['eu', 'us'] }
 * ```
 */
export type CedarValue =
  | string
  | number
  | boolean
  | readonly CedarValue[]
  | { readonly [key: string]: CedarValue }

/**
 * A Cedar entity uid.
 *
 * @example
 * ```ts
 * const admins: CedarEntityUid = { type: 'Svidkit::Group', id: 'admins' }
 * ```
 */
export interface CedarEntityUid {
  readonly type: string
  readonly id: string
}

/**
 * A Cedar entity in the JSON entity format.
 *
 * @example
 * ```ts
 * const admin: CedarEntity = {
 *   uid: { type: 'Svidkit::Workload', id: 'spiffe://example.org/admin' },
 *   attrs: {},
 *   parents: [{ type: 'Svidkit::Group', id: 'admins' }],
 * }
 * createCedarAuthorizer({ policies, entities: [admin] })
 * ```
 */
export interface CedarEntity {
  readonly uid: CedarEntityUid
  readonly attrs: { readonly [key: string]: CedarValue }
  readonly parents: readonly CedarEntityUid[]
}

interface CedarError {
  readonly message: string
  readonly sourceLocations?: readonly { readonly start: number; readonly end: number }[]
}

type CedarAnswer =
  | { readonly type: 'failure'; readonly errors: readonly CedarError[] }
  | {
      readonly type: 'success'
      readonly response: {
        readonly decision: 'allow' | 'deny'
        readonly diagnostics: {
          readonly reason: readonly string[]
          readonly errors: readonly { readonly policyId: string; readonly error: CedarError }[]
        }
      }
    }

/**
 * The part of `@cedar-policy/cedar-wasm` (4.x, `nodejs` flavour) this adapter uses. Pass the module
 * as `cedar` to skip the lazy `require`, e.g. when bundling.
 *
 * @example
 * ```ts
 * import * as cedarWasm from '@cedar-policy/cedar-wasm/nodejs'
 * const cedar: CedarModule = cedarWasm
 * const authorizer = createCedarAuthorizer({ policies, cedar })
 * ```
 */
export interface CedarModule {
  policySetTextToParts(text: string): {
    type: string
    policies?: string[]
    policy_templates?: string[]
    errors?: CedarError[]
  }
  policyToJson(policy: string): {
    type: string
    json?: { annotations?: Record<string, string> }
    errors?: CedarError[]
  }
  isAuthorized(call: never): CedarAnswer
  preparsePolicySet?(id: string, policies: never): { type: string; errors?: CedarError[] }
  statefulIsAuthorized?(call: never): CedarAnswer
}

/**
 * Options for {@link createCedarAuthorizer}.
 *
 * @example
 * ```ts
 * const options: CedarAuthorizerOptions = {
 *   policies: readFileSync('policies.cedar', 'utf8'),
 *   entities: (input) => (input.caller.channel === 'oidc' ? [] : [admin]),
 *   identity: { template: '/tenant/{tenant}/{service}' },
 * }
 * const authorizer = createCedarAuthorizer(options)
 * ```
 */
export interface CedarAuthorizerOptions {
  /**
   * Cedar policy text. Give each policy an `@id("…")` annotation: it is reported as the
   * decision's `rule` (otherwise `policy0`, `policy1`, …).
   */
  policies: string
  /**
   * Extra entities (groups, services…), fixed or computed per request. An entity whose uid is the
   * generated principal or resource adds its parents and attributes to it (e.g. to put
   * `Svidkit::Workload::"spiffe://…/admin"` into `Svidkit::Group::"admins"`).
   */
  entities?: readonly CedarEntity[] | ((input: AuthorizationInput) => readonly CedarEntity[])
  /**
   * Identity templates giving boundary captures to both principal and resource (`captures`
   * attribute), as in the policy engine. Without it, the principal gets `caller.captures` and the
   * resource none.
   */
  identity?: IdentitySpec
  /** A preloaded cedar-wasm module; default: `require('@cedar-policy/cedar-wasm/nodejs')` on first use. */
  cedar?: CedarModule
}

let loaded: CedarModule | undefined

function loadCedar(): CedarModule {
  if (loaded) return loaded
  try {
    const req = typeof require === 'function' ? require : createRequire(import.meta.url)
    loaded = req('@cedar-policy/cedar-wasm/nodejs') as CedarModule
    return loaded
  } catch (err) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      'createCedarAuthorizer: @cedar-policy/cedar-wasm is not installed (it is an optional peer dependency)',
      { cause: err },
    )
  }
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let last = -1
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      last = i
    }
  }
  return { line, column: offset - last }
}

function cedarPolicyError(
  text: string,
  what: string,
  errors: readonly CedarError[] | undefined,
  base = 0,
): PolicyError {
  const e = errors?.[0]
  const at = e?.sourceLocations?.[0]
  const pos = at ? position(text, base + at.start) : undefined
  const where = pos ? ` (line ${pos.line}, column ${pos.column})` : ''
  return new PolicyError('ERR_POLICY_INVALID', `${what}: ${e?.message ?? 'unknown error'}${where}`, {
    details: { engine: 'cedar', ...(pos ?? {}) },
  })
}

let setCounter = 0
const NO_AUDIT: readonly string[] = Object.freeze([])
const T_WORKLOAD = 'Svidkit::Workload'
const T_OIDC = 'Svidkit::OidcPrincipal'
const T_TD = 'Svidkit::TrustDomain'
const T_SERVICE = 'Svidkit::Service'
const T_ACTION = 'Svidkit::Action'

/** Keeps what Cedar can represent: strings, booleans, safe integers, sets and records (no `__entity`/`__extn` escapes). */
function toCedar(value: unknown, depth = 0): CedarValue | undefined {
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined
  if (depth >= 4 || value === null || typeof value !== 'object') return undefined
  if (Array.isArray(value)) {
    const out: CedarValue[] = []
    for (const v of value) {
      const c = toCedar(v, depth + 1)
      if (c !== undefined) out.push(c)
    }
    return out
  }
  const out: Record<string, CedarValue> = {}
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('__')) continue
    const c = toCedar(v, depth + 1)
    if (c !== undefined) out[k] = c
  }
  return out
}

function who(caller: Caller): string {
  return caller.spiffeId
    ? caller.spiffeId.toString()
    : `oidc iss "${caller.principal?.iss}" sub "${caller.principal?.sub}"`
}

/**
 * An authorizer backed by Cedar (`@cedar-policy/cedar-wasm`, an optional peer dependency loaded on
 * first use). The policy set is parsed once (`preparsePolicySet` + `statefulIsAuthorized` when the
 * module has them, `isAuthorized` otherwise); a bad policy throws `ERR_POLICY_INVALID` with its
 * position. Cedar's own semantics apply: forbid overrides permit, default deny.
 *
 * Each request is mapped to:
 * - principal `Svidkit::Workload::"<spiffe id>"` (attributes `id`, `trustDomain`, `path`,
 *   `channel`, `captures`; parent `Svidkit::TrustDomain::"<td>"`), or for OIDC callers
 *   `Svidkit::OidcPrincipal::"[\"<iss>\",\"<sub>\"]"` (attributes `iss`, `sub`, `channel`, `captures`);
 * - action `Svidkit::Action::"<HTTP method>"` or `Svidkit::Action::"</pkg.Svc/Method>"`;
 * - resource `Svidkit::Service::"<self id>"` (attributes `id`, `trustDomain`, `path`, `captures`);
 * - context `{ operation: { kind, method, path? }, channel, scopes, claims }` (claims reduced to
 *   what Cedar can represent).
 *
 * Fails closed: an evaluation error in **any** policy (guard optional attributes with `has`), a
 * Cedar failure, an exception or an HTTP path that is not in normal form is a deny with the reason.
 *
 * @example
 * ```ts
 * const authorizer = createCedarAuthorizer({
 *   policies: `
 *     @id("orders-read")
 *     permit (principal, action == Svidkit::Action::"GET", resource)
 *     when { principal.trustDomain == "example.org" && context.operation.path like "/orders/*" };
 *     @id("no-cross-tenant")
 *     forbid (principal, action, resource) unless { principal.captures.tenant == resource.captures.tenant };`,
 *   identity: { template: '/tenant/{tenant}/{service}' },
 * })
 * ```
 */
export function createCedarAuthorizer(options: CedarAuthorizerOptions): SyncAuthorizer {
  if (!options || typeof options !== 'object' || typeof options.policies !== 'string') {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      'createCedarAuthorizer: "policies" must be Cedar policy text',
    )
  }
  const { entities } = options
  if (entities !== undefined && typeof entities !== 'function' && !Array.isArray(entities)) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      'createCedarAuthorizer: "entities" must be an array or a function',
    )
  }
  let templates: ((id: SpiffeId) => Readonly<Record<string, string>> | undefined) | undefined
  if (options.identity) {
    const list = options.identity.templates ?? (options.identity.template ? [options.identity.template] : [])
    try {
      const matchers = list.map((t) => matchPathTemplate(t))
      templates = (id) => {
        for (const m of matchers) {
          const r = m(id)
          if (r.matched) return r.captures
        }
        return undefined
      }
    } catch (err) {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        `createCedarAuthorizer: identity: ${isSvidkitError(err) ? err.reason : String(err)}`,
      )
    }
  }
  const cedar = options.cedar ?? loadCedar()

  // Split the set so each policy gets its @id as its policy id.
  const text = options.policies
  const parts = cedar.policySetTextToParts(text)
  if (parts.type !== 'success') throw cedarPolicyError(text, 'invalid Cedar policy set', parts.errors)
  if (parts.policy_templates && parts.policy_templates.length > 0) {
    throw new PolicyError('ERR_POLICY_INVALID', 'Cedar policy templates are not supported; link them first')
  }
  const staticPolicies: Record<string, string> = {}
  for (const [i, p] of (parts.policies ?? []).entries()) {
    const json = cedar.policyToJson(p)
    if (json.type !== 'success') throw cedarPolicyError(p, `invalid Cedar policy #${i}`, json.errors)
    const id = json.json?.annotations?.id ?? `policy${i}`
    if (Object.hasOwn(staticPolicies, id)) {
      throw new PolicyError('ERR_POLICY_INVALID', `duplicate Cedar policy id "${id}"`, {
        details: { engine: 'cedar' },
      })
    }
    staticPolicies[id] = p
  }
  const policySet = { staticPolicies }
  let setId: string | undefined
  if (typeof cedar.preparsePolicySet === 'function' && typeof cedar.statefulIsAuthorized === 'function') {
    setId = `svidkit-cedar-${++setCounter}`
    const r = cedar.preparsePolicySet(setId, policySet as never)
    if (r.type !== 'success') throw cedarPolicyError(text, 'invalid Cedar policy set', r.errors)
  }

  const denied = (reason: string): Decision => ({ decision: 'deny', rule: null, reason, audit: NO_AUDIT })

  function authorize(input: AuthorizationInput): Decision {
    const caller = input?.caller
    const op = input?.operation
    if (!caller || !op) return denied('no caller or operation to authorize: default deny')
    let opText: string
    let operation: Record<string, CedarValue>
    if (op.kind === 'http') {
      // What the router serves: the canonical path, and GET for a HEAD that GET handlers answer.
      const n = normalizeHttpPath(op.path, op.routing)
      const method = handlerMethod(String(op.method).toUpperCase(), op.routing)
      opText = `${method} ${n.path}`
      if (!n.normal) return denied(`${opText} for ${who(caller)}: default deny (${n.problem})`)
      operation = { kind: 'http', method, path: n.path }
    } else if (op.kind === 'grpc') {
      opText = `gRPC ${op.method}`
      operation = { kind: 'grpc', method: String(op.method) }
    } else return denied('unsupported operation kind: default deny')

    try {
      const list: CedarEntity[] = []
      const tds = new Set<string>()
      const td = (name: string): CedarEntityUid => {
        const uid = { type: T_TD, id: name }
        if (!tds.has(name)) {
          tds.add(name)
          list.push({ uid, attrs: {}, parents: [] })
        }
        return uid
      }
      let principal: CedarEntityUid
      if (caller.spiffeId) {
        const id = caller.spiffeId
        principal = { type: T_WORKLOAD, id: id.toString() }
        const captures = templates ? (templates(id) ?? {}) : caller.captures
        list.push({
          uid: principal,
          attrs: {
            id: id.toString(),
            trustDomain: id.trustDomain.name,
            path: id.path,
            channel: caller.channel,
            captures: { ...captures },
          },
          parents: [td(id.trustDomain.name)],
        })
      } else {
        const p = caller.principal
        principal = { type: T_OIDC, id: JSON.stringify([p.iss, p.sub]) }
        list.push({
          uid: principal,
          attrs: { iss: p.iss, sub: p.sub, channel: caller.channel, captures: { ...caller.captures } },
          parents: [],
        })
      }
      const self = input.self
      const resource: CedarEntityUid = { type: T_SERVICE, id: self ? self.toString() : '' }
      if (self) {
        list.push({
          uid: resource,
          attrs: {
            id: self.toString(),
            trustDomain: self.trustDomain.name,
            path: self.path,
            captures: { ...(templates?.(self) ?? {}) },
          },
          parents: [td(self.trustDomain.name)],
        })
      }
      if (entities) {
        // An extra entity with the same uid as a generated one adds its parents (groups) and any
        // attributes the generated entity does not set; otherwise Cedar would reject the duplicate.
        for (const e of typeof entities === 'function' ? entities(input) : entities) {
          const i = list.findIndex((x) => x.uid.type === e.uid.type && x.uid.id === e.uid.id)
          const mine = list[i]
          if (mine)
            list[i] = {
              uid: mine.uid,
              attrs: { ...e.attrs, ...mine.attrs },
              parents: [...mine.parents, ...e.parents],
            }
          else list.push(e)
        }
      }
      const call = {
        principal,
        action: { type: T_ACTION, id: operation.method as string },
        resource,
        context: {
          operation,
          channel: caller.channel,
          scopes: [...caller.scopes],
          claims: toCedar(caller.claims ?? {}) ?? {},
        },
        entities: list,
      }
      const answer =
        setId !== undefined
          ? cedar.statefulIsAuthorized!({ ...call, preparsedPolicySetId: setId } as never)
          : cedar.isAuthorized({ ...call, policies: policySet } as never)
      if (answer.type !== 'success') {
        return denied(
          `Cedar evaluation failed: ${answer.errors[0]?.message ?? 'unknown error'}; failing closed`,
        )
      }
      const { decision, diagnostics } = answer.response
      const failed = diagnostics.errors[0]
      if (failed) {
        return denied(
          `Cedar policy "${failed.policyId}" failed to evaluate (${failed.error.message}); failing closed`,
        )
      }
      const rule = diagnostics.reason[0] ?? null
      if (decision === 'allow') {
        return { decision: 'allow', rule, reason: `allowed by Cedar policy "${rule}"`, audit: NO_AUDIT }
      }
      if (rule !== null)
        return { decision: 'deny', rule, reason: `denied by Cedar policy "${rule}"`, audit: NO_AUDIT }
      return denied(`no Cedar policy permitted ${opText} for ${who(caller)}: default deny`)
    } catch (err) {
      return denied(
        `Cedar evaluation threw (${err instanceof Error ? err.message : 'unknown error'}); failing closed`,
      )
    }
  }
  return Object.freeze({ authorize })
}
