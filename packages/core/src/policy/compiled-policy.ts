// The compiled form of a policy: per-rule predicates over an evaluation context, indexed by operation
// kind and HTTP method, so that evaluation is a few closure calls. Built by compile-policy.ts.
import type { Caller } from '../caller/caller.js'
import type { HttpRouting } from '../caller/http-routing.js'
import { firstCaptures, type PathTemplate } from '../spiffe-id/path-template.js'
import type { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { Decision, DefaultAction, RuleAction } from './types.js'

/** Per-request evaluation state. A class so V8 keeps one hidden class. */
export class EvalContext {
  /** Caller captures: `undefined` = not computed yet, `null` = no SPIFFE ID or no template matched. */
  callerCaptures: Readonly<Record<string, string>> | null | undefined = undefined

  constructor(
    readonly caller: Caller,
    /** The caller's SPIFFE ID text, for SPIFFE channels. */
    readonly id: string | undefined,
    /** The caller's trust domain name, for SPIFFE channels. */
    readonly td: string | undefined,
    readonly kind: 'http' | 'grpc' | 'connection',
    /** Upper-case HTTP method, or the full gRPC method. */
    readonly method: string,
    /** The normalized HTTP path, canonical under the router's routing (`''` for gRPC). */
    readonly path: string,
    readonly pathNormal: boolean,
    readonly pathProblem: string | undefined,
    readonly self: SpiffeId | undefined,
    /** The route template when it has no parameters (the handler's own path), canonical; DENY/AUDIT rules also match it. */
    readonly route: string | undefined,
  ) {}
}

/** A compiled condition. */
export type Test = (ctx: EvalContext) => boolean

/** A rule condition other than `from` / `to`, with a human explanation. */
export interface Check {
  readonly kind: 'scopes' | 'boundary' | 'claim'
  readonly test: Test
  /** Why the check passed (`true`) or failed (`false`). */
  explain(ctx: EvalContext, passed: boolean): string
  /** For scope checks: the scopes the rule requires. */
  readonly requiredScopes?: readonly string[]
}

export interface CompiledRule {
  readonly id: string
  readonly index: number
  readonly action: RuleAction
  /** Bit 1: can match HTTP operations; bit 2: gRPC operations; bit 4: connections (rules without `to`). */
  readonly kinds: number
  /** HTTP methods this rule can match, or `null` for any. */
  readonly httpMethods: ReadonlySet<string> | null
  readonly to: Test | null
  readonly from: Test | null
  readonly checks: readonly Check[]
  /** The preallocated allow decision (ALLOW rules). */
  readonly allowDecision: Decision
}

export interface RuleBucket {
  readonly audit: readonly CompiledRule[]
  readonly deny: readonly CompiledRule[]
  readonly allow: readonly CompiledRule[]
}

export interface CompiledPolicy {
  /** The routing its HTTP path and method conditions were compiled for. */
  readonly routing: HttpRouting
  readonly defaultAction: DefaultAction
  readonly http: ReadonlyMap<string, RuleBucket>
  readonly httpOther: RuleBucket
  readonly grpc: RuleBucket
  /** Rules without `to`: what decides a TLS connection in the handshake. */
  readonly connection: RuleBucket
  readonly identity: IdentityReader
}

/** `CompiledRule.kinds` bits. */
export const HTTP = 1
export const GRPC = 2
export const CONNECTION = 4

export const EMPTY_AUDIT: readonly string[] = Object.freeze([])

/** Reads boundary captures out of SPIFFE IDs with the policy's identity templates. */
export class IdentityReader {
  #selfKey: string | undefined
  #selfCaptures: Readonly<Record<string, string>> | null = null

  constructor(
    readonly templates: readonly PathTemplate[],
    readonly captureNames: ReadonlySet<string>,
  ) {}

  /** Captures of the first template that matches, or `null`. */
  read(id: SpiffeId): Readonly<Record<string, string>> | null {
    return firstCaptures(this.templates, id) ?? null
  }

  callerCaptures(ctx: EvalContext): Readonly<Record<string, string>> | null {
    if (ctx.callerCaptures === undefined) {
      const id = ctx.caller.spiffeId
      ctx.callerCaptures = id ? this.read(id) : null
    }
    return ctx.callerCaptures
  }

  /** Self captures, cached for the last self ID seen (a service's own ID rarely changes). */
  selfCaptures(self: SpiffeId | undefined): Readonly<Record<string, string>> | null {
    if (!self) return null
    const key = self.toString()
    if (key !== this.#selfKey) {
      this.#selfCaptures = this.read(self)
      this.#selfKey = key
    }
    return this.#selfCaptures
  }
}

function bucket(rules: readonly CompiledRule[], keep: (r: CompiledRule) => boolean): RuleBucket {
  const selected = rules.filter(keep)
  return Object.freeze({
    audit: Object.freeze(selected.filter((r) => r.action === 'AUDIT')),
    deny: Object.freeze(selected.filter((r) => r.action === 'DENY')),
    allow: Object.freeze(selected.filter((r) => r.action === 'ALLOW')),
  })
}

export function buildIndex(
  rules: readonly CompiledRule[],
  defaultAction: DefaultAction,
  identity: IdentityReader,
  routing: HttpRouting,
): CompiledPolicy {
  const methods = new Set<string>()
  for (const r of rules) if (r.httpMethods) for (const m of r.httpMethods) methods.add(m)
  const http = new Map<string, RuleBucket>()
  for (const m of methods) {
    http.set(
      m,
      bucket(rules, (r) => (r.kinds & HTTP) !== 0 && (r.httpMethods === null || r.httpMethods.has(m))),
    )
  }
  return Object.freeze({
    routing,
    defaultAction,
    http,
    httpOther: bucket(rules, (r) => (r.kinds & HTTP) !== 0 && r.httpMethods === null),
    grpc: bucket(rules, (r) => (r.kinds & GRPC) !== 0),
    connection: bucket(rules, (r) => (r.kinds & CONNECTION) !== 0),
    identity,
  })
}
