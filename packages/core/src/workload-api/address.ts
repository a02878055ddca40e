import { isIP } from 'node:net'
import { WorkloadApiError } from '../errors/domain-errors.js'

/**
 * The environment variable that holds the Workload API address (Workload Endpoint §4).
 *
 * @example
 * ```ts
 * process.env[SPIFFE_ENDPOINT_SOCKET] = 'unix:///run/spire/agent.sock'
 * ```
 */
export const SPIFFE_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET'

/**
 * A validated Workload API endpoint address.
 *
 * @example
 * ```ts
 * const addr: WorkloadApiAddress = parseWorkloadApiAddress('tcp://127.0.0.1:8081')
 * if (addr.network === 'tcp') addr.port // 8081
 * addr.grpcTarget // 'ipv4:127.0.0.1:8081'
 * ```
 */
export type WorkloadApiAddress =
  | {
      /** The address as given (`unix:///run/spire/agent.sock`). */
      readonly address: string
      readonly network: 'unix'
      /** The absolute socket path (percent-decoded). */
      readonly path: string
      /** The `@grpc/grpc-js` target to dial. */
      readonly grpcTarget: string
    }
  | {
      readonly address: string
      readonly network: 'tcp'
      /** The IP address (IPv6 without brackets). */
      readonly host: string
      readonly port: number
      readonly grpcTarget: string
    }

const invalid = (reason: string): WorkloadApiError =>
  new WorkloadApiError('ERR_WORKLOAD_API_ADDRESS_INVALID', reason, { details: { reason } })

// RFC 3986 appendix B, as Go's net/url splits a URL: scheme, then `//authority`, path, `?query`, `#fragment`.
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/

/**
 * Parses and validates a Workload API address (Workload Endpoint §4): `unix:///absolute/path` (also
 * `unix:/absolute/path`) or `tcp://IP:port`. Ports the spiffe/go-spiffe `addr_test.go` vectors and
 * error texts, with one deliberate difference: a `unix` URI with an authority (`unix://foo`) is
 * rejected, because the spec says the authority MUST NOT be set (go-spiffe accepts it).
 *
 * @throws WorkloadApiError `ERR_WORKLOAD_API_ADDRESS_INVALID`
 * @example
 * ```ts
 * import { parseWorkloadApiAddress } from '@svidkit/core/workload-api'
 * parseWorkloadApiAddress('unix:///run/spire/agent.sock').path // '/run/spire/agent.sock'
 * parseWorkloadApiAddress('tcp://127.0.0.1:8081').port           // 8081
 * parseWorkloadApiAddress('tcp://localhost:8081')                // throws: host must be an IP:port
 * ```
 */
export function parseWorkloadApiAddress(address: string): WorkloadApiAddress {
  if (typeof address !== 'string') throw invalid('workload endpoint socket URI must be a string')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (/[\u0000-\u001f\u007f]/.test(address)) {
    throw invalid('workload endpoint socket is not a valid URI: net/url: invalid control character in URL')
  }
  let rest = address
  let fragment = ''
  const hash = rest.indexOf('#')
  if (hash >= 0) {
    fragment = rest.slice(hash + 1)
    rest = rest.slice(0, hash)
  }
  const m = SCHEME.exec(rest)
  const scheme = m ? m[1]!.toLowerCase() : ''
  if (m) rest = rest.slice(m[0].length)
  if (scheme !== 'tcp' && scheme !== 'unix') {
    throw invalid('workload endpoint socket URI must have a "tcp" or "unix" scheme')
  }
  let query = ''
  const q = rest.indexOf('?')
  if (q >= 0) {
    query = rest.slice(q + 1)
    rest = rest.slice(0, q)
  }
  const kind = scheme === 'tcp' ? 'tcp socket' : 'unix socket'
  if (!rest.startsWith('/')) throw invalid(`workload endpoint ${kind} URI must not be opaque`)
  let authority: string | undefined
  let path = rest
  if (rest.startsWith('//')) {
    const after = rest.slice(2)
    const slash = after.indexOf('/')
    authority = slash >= 0 ? after.slice(0, slash) : after
    path = slash >= 0 ? after.slice(slash) : ''
  }
  const at = authority?.lastIndexOf('@') ?? -1
  const hasUser = at >= 0
  const host = authority === undefined ? '' : authority.slice(at + 1)

  if (scheme === 'tcp') {
    if (hasUser) throw invalid('workload endpoint tcp socket URI must not include user info')
    if (host === '') throw invalid('workload endpoint tcp socket URI must include a host')
    if (path !== '') throw invalid('workload endpoint tcp socket URI must not include a path')
    if (query !== '') throw invalid('workload endpoint tcp socket URI must not include query values')
    if (fragment !== '') throw invalid('workload endpoint tcp socket URI must not include a fragment')
    const { hostname, port } = splitHostPort(host)
    if (isIP(hostname) === 0) {
      throw invalid('workload endpoint tcp socket URI host component must be an IP:port')
    }
    if (port === '') throw invalid('workload endpoint tcp socket URI host component must include a port')
    const n = /^[0-9]+$/.test(port) ? Number(port) : Number.NaN
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw invalid('workload endpoint tcp socket URI host component has an invalid port')
    }
    const v6 = isIP(hostname) === 6
    return Object.freeze({
      address,
      network: 'tcp',
      host: hostname,
      port: n,
      grpcTarget: v6 ? `ipv6:[${hostname}]:${n}` : `ipv4:${hostname}:${n}`,
    })
  }

  if (hasUser) throw invalid('workload endpoint unix socket URI must not include user info')
  if (host === '' && path === '') throw invalid('workload endpoint unix socket URI must include a path')
  if (query !== '') throw invalid('workload endpoint unix socket URI must not include query values')
  if (fragment !== '') throw invalid('workload endpoint unix socket URI must not include a fragment')
  if (authority !== undefined && authority !== '') {
    throw invalid(
      'workload endpoint unix socket URI must not include an authority; use unix:///absolute/path (three slashes)',
    )
  }
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    throw invalid('workload endpoint unix socket URI path has an invalid percent-encoding')
  }
  if (!decoded.startsWith('/') || decoded.length < 2) {
    throw invalid('workload endpoint unix socket URI must include an absolute path')
  }
  return Object.freeze({ address, network: 'unix', path: decoded, grpcTarget: `unix:${decoded}` })
}

function splitHostPort(host: string): { hostname: string; port: string } {
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    if (end < 0) return { hostname: host, port: '' }
    const after = host.slice(end + 1)
    return { hostname: host.slice(1, end), port: after.startsWith(':') ? after.slice(1) : '' }
  }
  const colon = host.lastIndexOf(':')
  if (colon < 0) return { hostname: host, port: '' }
  return { hostname: host.slice(0, colon), port: host.slice(colon + 1) }
}

/**
 * Picks the Workload API address: the explicit one if given, else `$SPIFFE_ENDPOINT_SOCKET`
 * (Workload Endpoint §4), and validates it.
 *
 * @throws WorkloadApiError `ERR_WORKLOAD_API_ADDRESS_MISSING` when neither is set, `ERR_WORKLOAD_API_ADDRESS_INVALID`
 * @example
 * ```ts
 * import { resolveWorkloadApiAddress } from '@svidkit/core/workload-api'
 * const { grpcTarget } = resolveWorkloadApiAddress() // from SPIFFE_ENDPOINT_SOCKET
 * ```
 */
export function resolveWorkloadApiAddress(
  address?: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): WorkloadApiAddress {
  const chosen = address !== undefined && address !== '' ? address : env[SPIFFE_ENDPOINT_SOCKET]
  if (chosen === undefined || chosen === '') {
    throw new WorkloadApiError(
      'ERR_WORKLOAD_API_ADDRESS_MISSING',
      `workload endpoint socket address is not configured: pass an address or set ${SPIFFE_ENDPOINT_SOCKET}`,
    )
  }
  return parseWorkloadApiAddress(chosen)
}
