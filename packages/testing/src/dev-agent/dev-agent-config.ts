import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { OptionsError } from '@svidkit/core/errors'
import { parse as parseYaml } from 'yaml'
import type {
  DevAgentBundleEndpointOptions,
  DevAgentIdentity,
  DevAgentOptions,
  DevAgentSocket,
} from './types.js'

type Json = Record<string, unknown>

const fail = (path: string, reason: string, source?: string): never => {
  throw new OptionsError('ERR_OPTIONS_INVALID', `${source ? `${source}: ` : ''}${path}: ${reason}`, {
    details: { path, ...(source ? { source } : {}) },
  })
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function keys(o: Json, allowed: readonly string[], path: string, source?: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(`${path}.${k}`, `unknown key (allowed: ${allowed.join(', ')})`, source)
  }
}

function str(v: unknown, path: string, source?: string): string {
  if (typeof v !== 'string' || v === '') return fail(path, 'must be a non-empty string', source)
  return v
}

function int(v: unknown, path: string, min: number, max: number, source?: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    return fail(path, `must be an integer from ${min} to ${max}`, source)
  }
  return v
}

function bool(v: unknown, path: string, source?: string): boolean {
  if (typeof v !== 'boolean') return fail(path, 'must be true or false', source)
  return v
}

function identities(v: unknown, path: string, source?: string): DevAgentIdentity[] {
  if (!Array.isArray(v)) return fail(path, 'must be a list of identities', source)
  return v.map((item, i) => {
    const p = `${path}[${i}]`
    if (typeof item === 'string') return { spiffeId: str(item, p, source) }
    if (!isObject(item)) return fail(p, 'must be a SPIFFE ID (or path) or { spiffeId, hint }', source)
    keys(item, ['spiffeId', 'hint'], p, source)
    const id: DevAgentIdentity = { spiffeId: str(item.spiffeId, `${p}.spiffeId`, source) }
    if (item.hint !== undefined) id.hint = str(item.hint, `${p}.hint`, source)
    return id
  })
}

function tcp(v: unknown, path: string, source?: string): { host?: string; port?: number } {
  if (typeof v === 'string') {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d+)$/.exec(v)
    if (!m) return fail(path, 'must be "IP:port" or { host, port }', source)
    return { host: m[1] ?? m[2]!, port: int(Number(m[3]), path, 0, 65535, source) }
  }
  if (typeof v === 'number') return { port: int(v, path, 0, 65535, source) }
  if (!isObject(v)) return fail(path, 'must be "IP:port" or { host, port }', source)
  keys(v, ['host', 'port'], path, source)
  const out: { host?: string; port?: number } = {}
  if (v.host !== undefined) out.host = str(v.host, `${path}.host`, source)
  if (v.port !== undefined) out.port = int(v.port, `${path}.port`, 0, 65535, source)
  return out
}

/**
 * Parses a dev agent configuration document (YAML, or JSON, which is YAML too) into
 * {@link DevAgentOptions}. Unknown keys are errors. Relative socket paths are resolved against
 * `baseDir` (default: the current directory).
 *
 * ```yaml
 * trustDomain: example.org          # default example.org
 * svidTtlSeconds: 60                # X.509-SVID lifetime; rotated at half-life
 * jwtSvidTtlSeconds: 300
 * allowUnauthenticatedVerifiers: false   # like SPIRE: bundles for callers without an identity
 * socketPath: ./agent.sock          # the first socket (or `tcp: 127.0.0.1:8081`)
 * identities:                       # identities of that socket ('/path' = in the trust domain)
 *   - /web
 *   - { spiffeId: /web-external, hint: external }
 * sockets:                          # more sockets, each with its own identities
 *   - socketPath: ./db.sock
 *     identities: [/db]
 *   - socketPath: ./partner.sock     # a workload of another trust domain (a second SPIRE deployment
 *     trustDomain: partner.org       # stand-in): SVIDs from that trust domain's CA, its bundle as own
 *     identities: [/billing]
 *     federatesWith: [example.org]   # its federated_bundles (default: the agent's trust domain)
 * federation:                       # trust domains the agent's workloads trust (an in-memory CA each,
 *   - trustDomain: partner.org      #   shared with the sockets of that trust domain)
 * bundleEndpoint:                   # https_spiffe bundle endpoint serving this trust domain's bundle
 *   port: 8443                      # host defaults to 127.0.0.1
 *   spiffeId: /spire/server
 *   refreshHintSeconds: 300
 * ```
 *
 * @throws OptionsError `ERR_OPTIONS_INVALID` naming the offending key
 * @example
 * ```ts
 * import { DevAgent, parseDevAgentConfig } from '@svidkit/testing'
 * const agent = await DevAgent.start(parseDevAgentConfig('identities: [/web]\nsocketPath: /tmp/a.sock'))
 * ```
 */
export function parseDevAgentConfig(
  text: string,
  options: { baseDir?: string; source?: string } = {},
): DevAgentOptions {
  const src = options.source
  const tooBig = configTooBig(text)
  if (tooBig) throw new OptionsError('ERR_OPTIONS_INVALID', `${src ? `${src}: ` : ''}${tooBig}`)
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (cause) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${src ? `${src}: ` : ''}not valid YAML or JSON`, { cause })
  }
  if (doc === null || doc === undefined) doc = {}
  if (!isObject(doc)) return fail('$', 'the configuration must be a mapping', src)
  const base = options.baseDir ?? process.cwd()
  const path = (v: unknown, p: string): string => {
    const s = str(v, p, src)
    return isAbsolute(s) ? s : resolve(base, s)
  }
  keys(
    doc,
    [
      'trustDomain',
      'svidTtlSeconds',
      'jwtSvidTtlSeconds',
      'allowUnauthenticatedVerifiers',
      'socketPath',
      'tcp',
      'identities',
      'sockets',
      'federation',
      'bundleEndpoint',
    ],
    '$',
    src,
  )
  const out: DevAgentOptions = {}
  if (doc.trustDomain !== undefined) out.trustDomain = str(doc.trustDomain, '$.trustDomain', src)
  if (doc.svidTtlSeconds !== undefined)
    out.svidTtlSeconds = int(doc.svidTtlSeconds, '$.svidTtlSeconds', 2, 10 * 365 * 86400, src)
  if (doc.jwtSvidTtlSeconds !== undefined) {
    out.jwtSvidTtlSeconds = int(doc.jwtSvidTtlSeconds, '$.jwtSvidTtlSeconds', 1, 10 * 365 * 86400, src)
  }
  if (doc.allowUnauthenticatedVerifiers !== undefined) {
    out.allowUnauthenticatedVerifiers = bool(
      doc.allowUnauthenticatedVerifiers,
      '$.allowUnauthenticatedVerifiers',
      src,
    )
  }
  if (doc.socketPath !== undefined && doc.tcp !== undefined) fail('$', 'set socketPath or tcp, not both', src)
  if (doc.socketPath !== undefined) out.socketPath = path(doc.socketPath, '$.socketPath')
  if (doc.tcp !== undefined) out.tcp = tcp(doc.tcp, '$.tcp', src)
  if (doc.identities !== undefined) out.identities = identities(doc.identities, '$.identities', src)
  if (doc.sockets !== undefined) {
    if (!Array.isArray(doc.sockets)) fail('$.sockets', 'must be a list', src)
    out.sockets = (doc.sockets as unknown[]).map((s, i): DevAgentSocket => {
      const p = `$.sockets[${i}]`
      if (!isObject(s)) return fail(p, 'must be a mapping', src)
      keys(s, ['name', 'socketPath', 'tcp', 'identities', 'trustDomain', 'federatesWith'], p, src)
      if ((s.socketPath === undefined) === (s.tcp === undefined))
        fail(p, 'set exactly one of socketPath and tcp', src)
      const sock: DevAgentSocket = {}
      if (s.name !== undefined) sock.name = str(s.name, `${p}.name`, src)
      if (s.socketPath !== undefined) sock.socketPath = path(s.socketPath, `${p}.socketPath`)
      if (s.tcp !== undefined) sock.tcp = tcp(s.tcp, `${p}.tcp`, src)
      if (s.identities !== undefined) sock.identities = identities(s.identities, `${p}.identities`, src)
      if (s.trustDomain !== undefined) sock.trustDomain = str(s.trustDomain, `${p}.trustDomain`, src)
      if (s.federatesWith !== undefined) {
        if (!Array.isArray(s.federatesWith))
          fail(`${p}.federatesWith`, 'must be a list of trust domains', src)
        sock.federatesWith = (s.federatesWith as unknown[]).map((td, j) =>
          str(td, `${p}.federatesWith[${j}]`, src),
        )
      }
      return sock
    })
  }
  if (doc.federation !== undefined) {
    if (!Array.isArray(doc.federation)) fail('$.federation', 'must be a list', src)
    out.federation = (doc.federation as unknown[]).map((f, i) => {
      const p = `$.federation[${i}]`
      if (typeof f === 'string') return { trustDomain: str(f, p, src) }
      if (!isObject(f)) return fail(p, 'must be a trust domain or { trustDomain }', src)
      keys(f, ['trustDomain'], p, src)
      return { trustDomain: str(f.trustDomain, `${p}.trustDomain`, src) }
    })
  }
  if (doc.bundleEndpoint !== undefined) {
    const b = doc.bundleEndpoint
    if (typeof b === 'boolean') out.bundleEndpoint = b
    else if (!isObject(b)) fail('$.bundleEndpoint', 'must be true/false or a mapping', src)
    else {
      keys(b, ['host', 'port', 'spiffeId', 'refreshHintSeconds'], '$.bundleEndpoint', src)
      const e: DevAgentBundleEndpointOptions = {}
      if (b.host !== undefined) e.host = str(b.host, '$.bundleEndpoint.host', src)
      if (b.port !== undefined) e.port = int(b.port, '$.bundleEndpoint.port', 0, 65535, src)
      if (b.spiffeId !== undefined) e.spiffeId = str(b.spiffeId, '$.bundleEndpoint.spiffeId', src)
      if (b.refreshHintSeconds !== undefined) {
        e.refreshHintSeconds = int(
          b.refreshHintSeconds,
          '$.bundleEndpoint.refreshHintSeconds',
          1,
          86400 * 365,
          src,
        )
      }
      out.bundleEndpoint = e
    }
  }
  return out
}

const MAX_CONFIG_BYTES = 256 * 1024
const MAX_FLOW_NESTING = 32

/**
 * Why a configuration text is refused before it is parsed, or `undefined`. The YAML parser compiles
 * a regular expression per level of `[`/`{` nesting, and a few thousand levels abort the whole process
 * (V8's "RegExpCompiler Allocation failed", which no `catch` sees); a real configuration is a few
 * levels deep and a few KiB long. Brackets inside quoted strings count too, which only over-estimates.
 */
function configTooBig(text: string): string | undefined {
  if (text.length > MAX_CONFIG_BYTES) return `the configuration is larger than ${MAX_CONFIG_BYTES} bytes`
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 91 || c === 123) {
      if (++depth > MAX_FLOW_NESTING)
        return `the configuration is nested more than ${MAX_FLOW_NESTING} levels deep`
    } else if ((c === 93 || c === 125) && depth > 0) depth--
  }
  return undefined
}

/**
 * Reads a dev agent configuration file (YAML or JSON); relative socket paths are resolved against the
 * file's directory. See {@link parseDevAgentConfig} for the format.
 *
 * @example
 * ```ts
 * import { DevAgent, loadDevAgentConfig } from '@svidkit/testing'
 * await using agent = await DevAgent.start(await loadDevAgentConfig('dev-agent.yaml'))
 * ```
 */
export async function loadDevAgentConfig(file: string): Promise<DevAgentOptions> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${file}: cannot read the configuration file`, { cause })
  }
  return parseDevAgentConfig(text, { baseDir: dirname(resolve(file)), source: file })
}
