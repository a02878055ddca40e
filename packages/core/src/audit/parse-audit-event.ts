import type { CallerChannel, OidcPrincipal } from '../caller/caller.js'
import { type HttpRouting, httpRouting } from '../caller/http-routing.js'
import { AuditError } from '../errors/domain-errors.js'
import type { AuditClaim, AuditEvent, AuditOperation } from './audit-event.js'

const CHANNELS: readonly CallerChannel[] = ['mtls', 'xfcc', 'jwt', 'oidc']

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isScalar = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

function invalid(field: string, reason: string): never {
  throw new AuditError('ERR_AUDIT_EVENT_INVALID', `${field}: ${reason}`, { details: { field } })
}

function str(o: Json, key: string): string {
  const v = o[key]
  if (typeof v !== 'string') return invalid(key, 'must be a string')
  return v
}

function strOrNull(o: Json, key: string): string | null {
  const v = o[key]
  if (v === null) return null
  if (typeof v !== 'string' || v === '') return invalid(key, 'must be a non-empty string or null')
  return v
}

function strings(o: Json, key: string): readonly string[] {
  const v = o[key]
  if (v === undefined) return []
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    return invalid(key, 'must be a list of strings')
  return v
}

function callerOf(v: unknown): string | OidcPrincipal | null {
  if (v === null || (typeof v === 'string' && v !== '')) return v
  if (isObject(v) && typeof v.iss === 'string' && typeof v.sub === 'string' && v.iss !== '' && v.sub !== '') {
    return { iss: v.iss, sub: v.sub }
  }
  return invalid('caller', 'must be a SPIFFE ID, an { iss, sub } principal or null')
}

function operationOf(v: unknown): AuditOperation {
  if (!isObject(v)) return invalid('operation', 'must be an object')
  if (v.kind === 'connection') return { kind: 'connection' }
  if (typeof v.method !== 'string' || v.method === '') return invalid('operation.method', 'must be a string')
  if (v.kind === 'grpc') return { kind: 'grpc', method: v.method }
  if (v.kind !== 'http') return invalid('operation.kind', 'must be "http", "grpc" or "connection"')
  if (typeof v.path !== 'string') return invalid('operation.path', 'must be a string')
  if (v.route !== undefined && typeof v.route !== 'string')
    return invalid('operation.route', 'must be a string')
  let routing: HttpRouting | undefined
  if (v.routing !== undefined) {
    try {
      routing = httpRouting(v.routing as Partial<HttpRouting>)
    } catch {
      return invalid('operation.routing', 'must be an HttpRouting object')
    }
  }
  return {
    kind: 'http',
    method: v.method,
    path: v.path,
    ...(v.route === undefined ? {} : { route: v.route as string }),
    ...(routing === undefined ? {} : { routing }),
  }
}

function claimsOf(v: unknown): readonly AuditClaim[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v)) return invalid('claims', 'must be a list of { path, value }')
  return v.map((c: unknown, i) => {
    const field = `claims[${i}]`
    if (!isObject(c)) return invalid(field, 'must be { path, value }')
    const path = c.path
    if (!Array.isArray(path) || path.length === 0 || !path.every((k) => typeof k === 'string' && k !== '')) {
      return invalid(`${field}.path`, 'must be a non-empty list of claim names')
    }
    const value = c.value
    if (value === undefined) return { path }
    if (isScalar(value) || (Array.isArray(value) && value.every(isScalar))) return { path, value }
    return invalid(`${field}.value`, 'must be a string, number or boolean, or a list of them')
  })
}

/**
 * Reads one audit event back, as parsed from a line of an audit log: an {@link AuditEvent} written by
 * `jsonLinesSink`, or a pino line written by `loggerSink` (its extra keys such as `level`, `time` and
 * `msg` are ignored). Throws `ERR_AUDIT_EVENT_INVALID` naming the first field that does not fit.
 * Events from before scopes were recorded read as having none.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs'
 * import { parseAuditEvent } from '@svidkit/core/audit'
 *
 * const events = readFileSync('audit.jsonl', 'utf8').split('\n').filter(Boolean).map((l) => parseAuditEvent(JSON.parse(l)))
 * ```
 */
export function parseAuditEvent(value: unknown): AuditEvent {
  if (!isObject(value)) return invalid('event', 'must be a JSON object')
  const caller = callerOf(value.caller)
  const channel = value.channel
  if (caller === null ? channel !== null : !CHANNELS.includes(channel as CallerChannel)) {
    return invalid(
      'channel',
      caller === null ? 'must be null without a caller' : `must be one of ${CHANNELS.join(', ')}`,
    )
  }
  if (caller !== null && (typeof caller === 'string') === (channel === 'oidc')) {
    return invalid('channel', 'an oidc caller is an { iss, sub } principal; other channels name a SPIFFE ID')
  }
  const decision = value.decision
  if (decision !== 'allow' && decision !== 'deny') return invalid('decision', 'must be "allow" or "deny"')
  const claims = claimsOf(value.claims)
  const latency = value.latencyMs === undefined ? 0 : value.latencyMs
  if (typeof latency !== 'number' || !Number.isFinite(latency))
    return invalid('latencyMs', 'must be a number')
  const decisionId = value.decisionId
  const code = value.code
  if (decisionId !== undefined && typeof decisionId !== 'string')
    return invalid('decisionId', 'must be a string')
  if (code !== undefined && typeof code !== 'string') return invalid('code', 'must be a string')
  return {
    timestamp: str(value, 'timestamp'),
    caller,
    channel: channel as CallerChannel | null,
    scopes: strings(value, 'scopes'),
    ...(claims === undefined ? {} : { claims }),
    self: strOrNull(value, 'self'),
    operation: operationOf(value.operation),
    decision,
    rule: strOrNull(value, 'rule'),
    reason: str(value, 'reason'),
    audit: strings(value, 'audit'),
    latencyMs: latency,
    ...(decisionId === undefined ? {} : { decisionId }),
    ...(code === undefined ? {} : { code }),
  }
}
