// The decision fast path: a policy decision is a pure function of (caller, self, operation), so the
// engine remembers it per caller object. Callers are built once per connection, token or forwarded
// header (the pipeline keeps them), so almost every request is a lookup. Bounded per caller; a new
// policy (a reload) is a new authorizer with a new cache; the pipeline rebuilds its callers when the
// bundles change, which leaves the old entries to the garbage collector.
import type { Caller } from '../caller/caller.js'
import { routingKey } from '../caller/http-routing.js'
import type { AuthorizationInput, Decision } from './types.js'

/** Decisions remembered per caller object; the map is cleared when it is full. */
export const MAX_DECISIONS_PER_CALLER = 256

/** A cache of decisions for one authorizer. @internal */
export interface DecisionCache {
  get(input: AuthorizationInput, decide: (input: AuthorizationInput) => Decision): Decision
}

/**
 * What the decision of `input` depends on besides the caller object, as a string; `undefined` for an
 * input that is not cached (no caller or operation, an unknown kind).
 */
function keyOf(input: AuthorizationInput): string | undefined {
  const op = input?.operation
  if (!op || typeof op !== 'object' || !input.caller || typeof input.caller !== 'object') return undefined
  const self = input.self === undefined ? '' : input.self.toString()
  switch (op.kind) {
    case 'http':
      if (typeof op.method !== 'string' || typeof op.path !== 'string') return undefined
      return `h${routingKey(op.routing)} ${self} ${op.method} ${op.path} ${typeof op.route === 'string' ? op.route : ''}`
    case 'grpc':
      return typeof op.method === 'string' ? `g ${self} ${op.method}` : undefined
    case 'connection':
      return `c ${self}`
    default:
      return undefined
  }
}

/** A new decision cache. @internal */
export function createDecisionCache(): DecisionCache {
  const byCaller = new WeakMap<Caller, Map<string, Decision>>()
  return {
    get(input, decide) {
      const key = keyOf(input)
      if (key === undefined) return decide(input)
      let decisions = byCaller.get(input.caller)
      const hit = decisions?.get(key)
      if (hit !== undefined) return hit
      // Shared by every later request of this caller: frozen, audit list included.
      const d = decide(input)
      if (!Object.isFrozen(d.audit)) Object.freeze(d.audit)
      if (!Object.isFrozen(d)) Object.freeze(d)
      if (decisions === undefined) {
        decisions = new Map()
        byCaller.set(input.caller, decisions)
      } else if (decisions.size >= MAX_DECISIONS_PER_CALLER) decisions.clear()
      decisions.set(key, d)
      return d
    },
  }
}
