// Reads a policy test file (`svidkit policy test <policy> <cases.yaml>`): YAML or JSON, every key
// checked, each case with the line it starts on.
import type { CallerChannel, OidcPrincipal, Operation } from '@svidkit/core/caller'
import { PolicyError } from '@svidkit/core/errors'
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml'

/** One case: who calls, what they do, and what the policy must decide. */
export interface PolicyTestCase {
  readonly name: string
  /** 1-based line of the case in the file. */
  readonly line: number
  readonly caller: string | OidcPrincipal
  readonly channel: CallerChannel
  readonly scopes: readonly string[]
  readonly claims: Readonly<Record<string, unknown>> | undefined
  readonly operation: Operation
  readonly self: string | undefined
  readonly expect: 'allow' | 'deny'
  /** The rule that must decide; `null` for a default decision; `undefined` when any rule will do. */
  readonly rule: string | null | undefined
}

const CHANNELS: readonly CallerChannel[] = ['mtls', 'xfcc', 'jwt', 'oidc']
const CASE_KEYS = ['name', 'caller', 'channel', 'scopes', 'claims', 'http', 'grpc', 'self', 'expect', 'rule']
const MAX_BYTES = 4 * 1024 * 1024

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Parses a policy test file:
 *
 * ```yaml
 * self: spiffe://example.org/ns/shop/sa/orders    # default for every case
 * cases:
 *   - name: web reads an order
 *     caller: spiffe://example.org/ns/shop/sa/web  # or { iss, sub } for an OIDC caller
 *     channel: jwt                                 # mtls (default), xfcc, jwt, oidc
 *     scopes: [orders:read]
 *     claims: { azp: portal }
 *     http: GET /orders/42                         # or grpc: /orders.v1.Orders/Get
 *     expect: allow                                # allow | deny
 *     rule: orders-read                            # optional; null = the default decided
 * ```
 *
 * Throws `ERR_POLICY_TESTS_INVALID` naming the file, the key and the line.
 */
export function loadPolicyTests(text: string, filename: string): PolicyTestCase[] {
  const lines = new LineCounter()
  const fail = (path: string, reason: string, node?: unknown): never => {
    const range = (node as Node | undefined)?.range
    const at = range ? lines.linePos(range[0]) : undefined
    const where = at ? ` (line ${at.line}, column ${at.col})` : ''
    throw new PolicyError(
      'ERR_POLICY_TESTS_INVALID',
      `${filename}: ${path ? `${path}: ` : ''}${reason}${where}`,
      {
        details: { filename, path, ...(at ? { line: at.line, column: at.col } : {}) },
      },
    )
  }
  if (text.length > MAX_BYTES) fail('', `larger than ${MAX_BYTES} bytes`)
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    const at = lines.linePos(e.pos[0])
    fail('', `syntax error: ${e.message.split('\n')[0]} (line ${at.line}, column ${at.col})`)
  }
  const root: unknown = doc.toJS({ maxAliasCount: 50 })
  const nodeAt = (path: (string | number)[]): unknown => doc.getIn(path, true)
  if (!isObject(root)) return fail('', 'must be a mapping with "cases" (and optionally "self")', doc.contents)
  for (const key of Object.keys(root)) {
    if (key !== 'self' && key !== 'cases') fail(key, 'unknown key (allowed: self, cases)', nodeAt([key]))
  }
  const defaultSelf = root.self
  if (defaultSelf !== undefined && (typeof defaultSelf !== 'string' || defaultSelf === '')) {
    fail('self', 'must be a SPIFFE ID', nodeAt(['self']))
  }
  const cases = root.cases
  if (!Array.isArray(cases) || cases.length === 0 || !isSeq(nodeAt(['cases']))) {
    return fail('cases', 'must be a non-empty list of cases', nodeAt(['cases']) ?? doc.contents)
  }

  return cases.map((c: unknown, i): PolicyTestCase => {
    const at = `cases[${i}]`
    const node = nodeAt(['cases', i])
    const nodeOf = (key: string) => (isMap(node) ? node.get(key, true) : node) ?? node
    if (!isObject(c)) return fail(at, 'must be a mapping', node)
    for (const key of Object.keys(c)) {
      if (!CASE_KEYS.includes(key))
        fail(`${at}.${key}`, `unknown key (allowed: ${CASE_KEYS.join(', ')})`, nodeOf(key))
    }
    const bad = (key: string, reason: string): never => fail(`${at}.${key}`, reason, nodeOf(key))

    const caller = c.caller
    let id: string | OidcPrincipal
    if (typeof caller === 'string' && caller !== '') id = caller
    else if (isObject(caller) && typeof caller.iss === 'string' && typeof caller.sub === 'string') {
      id = { iss: caller.iss, sub: caller.sub }
    } else return bad('caller', 'must be a SPIFFE ID or an { iss, sub } OIDC principal')

    const channel = c.channel ?? (typeof id === 'string' ? 'mtls' : 'oidc')
    if (!CHANNELS.includes(channel as CallerChannel)) bad('channel', `must be one of ${CHANNELS.join(', ')}`)
    if ((channel === 'oidc') !== (typeof id !== 'string')) {
      bad('channel', 'an oidc caller is an { iss, sub } principal; the other channels name a SPIFFE ID')
    }

    const scopes = c.scopes ?? []
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string'))
      bad('scopes', 'must be a list of strings')
    if (c.claims !== undefined && !isObject(c.claims))
      bad('claims', 'must be a mapping of claim names to values')

    let operation: Operation
    if ((c.http === undefined) === (c.grpc === undefined)) {
      return fail(at, 'needs exactly one of "http: METHOD /path" or "grpc: /package.Service/Method"', node)
    }
    if (c.http !== undefined) {
      const m = typeof c.http === 'string' ? /^([A-Za-z]+) +(\/\S*)$/.exec(c.http.trim()) : null
      if (!m) return bad('http', 'must read "METHOD /path", e.g. "GET /orders/42"')
      operation = { kind: 'http', method: m[1]!.toUpperCase(), path: m[2]! }
    } else {
      if (typeof c.grpc !== 'string' || !/^\/[^/\s]+\/[^/\s]+$/.test(c.grpc)) {
        return bad('grpc', 'must read "/package.Service/Method"')
      }
      operation = { kind: 'grpc', method: c.grpc }
    }

    const self = c.self ?? defaultSelf
    if (self !== undefined && (typeof self !== 'string' || self === '')) bad('self', 'must be a SPIFFE ID')
    if (c.expect !== 'allow' && c.expect !== 'deny') bad('expect', 'must be "allow" or "deny"')
    if (c.rule !== undefined && c.rule !== null && (typeof c.rule !== 'string' || c.rule === '')) {
      bad('rule', 'must be a rule id, or null for a default decision')
    }
    if (c.name !== undefined && (typeof c.name !== 'string' || c.name === '')) bad('name', 'must be a string')

    const op = operation.kind === 'http' ? `${operation.method} ${operation.path}` : operation.method
    const who = typeof id === 'string' ? id : `${id.iss} ${id.sub}`
    const range = (node as Node | undefined)?.range
    return {
      name: (c.name as string | undefined) ?? `${who} ${op}`,
      line: range ? lines.linePos(range[0]).line : 0,
      caller: id,
      channel: channel as CallerChannel,
      scopes: scopes as string[],
      claims: c.claims as Json | undefined,
      operation,
      self: self as string | undefined,
      expect: c.expect as 'allow' | 'deny',
      rule: c.rule as string | null | undefined,
    }
  })
}
