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

/** The decisions of one caller, with its last decision checked first (a caller repeats itself). */
interface CallerDecisions {
  readonly map: Map<string, Decision>
  lastOp: AuthorizationInput['operation'] | undefined
  lastSelf: AuthorizationInput['self']
  lastDecision: Decision | undefined
}

/** Whether `op` asks what `last` asked (the same route, method and path under the same routing). */
function sameOperation(
  op: AuthorizationInput['operation'],
  last: AuthorizationInput['operation'] | undefined,
): boolean {
  if (last === undefined || op.kind !== last.kind) return false
  if (op.kind === 'http') {
    const l = last as typeof op
    return op.path === l.path && op.method === l.method && op.route === l.route && op.routing === l.routing
  }
  if (op.kind === 'grpc') return op.method === (last as typeof op).method
  return true
}

/** A new decision cache. @internal */
export function createDecisionCache(): DecisionCache {
  const byCaller = new WeakMap<Caller, CallerDecisions>()
  return {
    get(input, decide) {
      const entry = byCaller.get(input?.caller)
      if (
        entry !== undefined &&
        entry.lastDecision !== undefined &&
        input.self === entry.lastSelf &&
        sameOperation(input.operation, entry.lastOp)
      ) {
        return entry.lastDecision
      }
      const key = keyOf(input)
      if (key === undefined) return decide(input)
      let d = entry?.map.get(key)
      if (d === undefined) {
        // Shared by every later request of this caller: frozen, audit list included.
        d = decide(input)
        if (!Object.isFrozen(d.audit)) Object.freeze(d.audit)
        if (!Object.isFrozen(d)) Object.freeze(d)
      }
      let decisions = entry
      if (decisions === undefined) {
        decisions = { map: new Map(), lastOp: undefined, lastSelf: undefined, lastDecision: undefined }
        byCaller.set(input.caller, decisions)
      }
      if (!decisions.map.has(key)) {
        if (decisions.map.size >= MAX_DECISIONS_PER_CALLER) decisions.map.clear()
        decisions.map.set(key, d)
      }
      decisions.lastOp = input.operation
      decisions.lastSelf = input.self
      decisions.lastDecision = d
      return d
    },
  }
}
