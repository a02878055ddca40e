import { callerFromId } from '../caller/create-caller.js'
import { httpRouting } from '../caller/http-routing.js'
import { AuditError } from '../errors/domain-errors.js'
import { toSvidkitError } from '../errors/to-svidkit-error.js'
import type { AuthorizationInput } from '../policy/types.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import type { AuditClaim, AuditEvent } from './audit-event.js'

/** The recorded claims as the nested object policy `when` conditions read. */
function claimsObject(claims: readonly AuditClaim[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const { path, value } of claims) {
    if (value === undefined) continue
    let node = out
    for (const key of path.slice(0, -1)) {
      const next = Object.hasOwn(node, key) ? node[key] : undefined
      if (typeof next === 'object' && next !== null && !Array.isArray(next))
        node = next as Record<string, unknown>
      else node = node[key] = {}
    }
    node[path[path.length - 1]!] = value
  }
  return out
}

/**
 * The {@link AuthorizationInput} an audit event was decided on, to decide it again (against another
 * policy, for a replay): the caller from its recorded ID or `{ iss, sub }`, channel, scopes and
 * recorded claims; `self`; the operation. Throws `ERR_AUDIT_EVENT_INVALID` for an event refused
 * before a caller was established (no authorizer saw it) or one whose IDs do not parse.
 *
 * @example
 * ```ts
 * const authorizer = createPolicyAuthorizer(loadPolicyFile('policy-next.yaml'))
 * const event = parseAuditEvent(JSON.parse(line))
 * if (event.caller !== null) {
 *   const next = authorizer.authorize(auditEventInput(event))
 *   if (next.decision !== event.decision) console.log('would change:', event.operation, next.reason)
 * }
 * ```
 */
export function auditEventInput(event: AuditEvent): AuthorizationInput {
  if (event.caller === null || event.channel === null) {
    throw new AuditError(
      'ERR_AUDIT_EVENT_INVALID',
      'the event records a request refused before a caller was established: there is nothing to decide again',
    )
  }
  try {
    const caller = callerFromId(event.caller, {
      channel: event.channel,
      scopes: event.scopes,
      ...(event.claims === undefined ? {} : { claims: claimsObject(event.claims) }),
    })
    const self = event.self === null ? undefined : SpiffeId.parse(event.self)
    const op = event.operation
    const operation: AuthorizationInput['operation'] =
      op.kind === 'http'
        ? {
            kind: 'http',
            method: op.method,
            path: op.path,
            ...(op.route === undefined ? {} : { route: op.route }),
            ...(op.routing === undefined ? {} : { routing: httpRouting(op.routing) }),
          }
        : op.kind === 'grpc'
          ? { kind: 'grpc', method: op.method }
          : { kind: 'connection' }
    return { caller, self, operation }
  } catch (err) {
    const e = toSvidkitError(err)
    throw new AuditError('ERR_AUDIT_EVENT_INVALID', `cannot rebuild the decision input: ${e.message}`, {
      cause: err,
    })
  }
}
