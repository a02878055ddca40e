// Node HTTP extraction: a Node request (http, https, http2 compat; Fastify's `request.raw`,
// Express's `req`, Nest's underlying request) → core's neutral CallerCredentials.
import { IncomingMessage } from 'node:http'
import type { HttpRouting } from '../caller/http-routing.js'
import type { HttpOperation } from '../caller/operation.js'
import type { CallerCredentials, CallerVerifier } from '../pipeline/caller-verifier.js'
import type { TlsSocketLike } from '../tls/peer-certificate-chain.js'

/**
 * The parts of a Node `IncomingMessage` (or HTTP/2 compat request) svidkit reads.
 *
 * @example
 * ```ts
 * const request: NodeHttpRequestLike = { method: 'get', url: '/orders/42?x=1', headers: { authorization: `Bearer ${token}` } }
 * credentialsFromNodeRequest(verifier, request).operation // { kind: 'http', method: 'GET', path: '/orders/42', … }
 * ```
 */
export interface NodeHttpRequestLike {
  readonly method?: string | undefined
  readonly url?: string | undefined
  readonly originalUrl?: string | undefined
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly headersDistinct?: Readonly<Record<string, string[] | undefined>>
  readonly socket?: (TlsSocketLike & { readonly remoteAddress?: string | undefined }) | null | undefined
  /** HTTP/2 compat requests: the stream, whose session's socket is one object per connection. */
  readonly stream?:
    | {
        readonly session?:
          | {
              readonly socket?: (TlsSocketLike & { readonly remoteAddress?: string | undefined }) | undefined
            }
          | undefined
      }
    | undefined
}

/**
 * What an adapter knows about a request's operation beyond the request itself.
 *
 * @example
 * ```ts
 * const hints: HttpOperationHints = { route: request.routeOptions.url, routing: httpRouting({ caseSensitive: false }) }
 * credentialsFromNodeRequest(verifier, request.raw, hints)
 * ```
 */
export interface HttpOperationHints {
  /** The path to authorize, when it is not the request URL's. */
  path?: string | undefined
  /** The route template the router chose, when it has chosen one before the check. */
  route?: string | undefined
  /** How the framework's router matches paths (see `HttpRouting`). */
  routing?: HttpRouting | undefined
}

/**
 * The credentials of a Node HTTP request for `verifier`: the socket (on HTTP/2, the connection's,
 * one object per connection) and peer address, and only the
 * headers its accepted channels read (`verifier.headers`: `authorization`, every
 * `x-forwarded-client-cert` line, the forwarded-certificate headers), plus the operation.
 *
 * @example
 * ```ts
 * import { credentialsFromNodeRequest } from '@svidkit/core/adapter'
 * http.createServer(async (req, res) => {
 *   const { caller } = await verifier.verifyCaller(credentialsFromNodeRequest(verifier, req))
 *   res.end(caller?.spiffeId?.toString())
 * })
 * ```
 */
export function credentialsFromNodeRequest(
  verifier: Pick<CallerVerifier, 'headers'>,
  request: NodeHttpRequestLike,
  hints: HttpOperationHints = {},
): CallerCredentials {
  // A Node request: its header lines read straight from `rawHeaders`, which is what Node fills
  // `headers` and `headersDistinct` from, without building either object (≈ 1 µs per request:
  // Node builds them lazily, on first access).
  const raw = request instanceof IncomingMessage ? request.rawHeaders : undefined
  const header = (name: string | undefined): string | readonly string[] | undefined =>
    name === undefined
      ? undefined
      : raw !== undefined
        ? headerLines(raw, name)
        : (request.headersDistinct?.[name] ?? request.headers[name])
  // HTTP/2: the session's socket, where the request's own `socket` is a new proxy per stream. The
  // pipeline remembers a connection's verified peer by this object, so a client chain is verified
  // once per connection, not on every request.
  const socket = request.stream?.session?.socket ?? request.socket ?? undefined
  const h = verifier.headers
  return {
    operation: httpOperation(request, hints),
    socket,
    peerAddress: socket?.remoteAddress,
    authorization: header(h.authorization),
    xfcc: header(h.xfcc),
    forwardedCert: header(h.forwardedCert),
    forwardedCertChain: header(h.forwardedCertChain),
  }
}

/**
 * The operation of a Node HTTP request: upper-case method and the path without the query string
 * (`originalUrl` first, for Express routers), plus the route template and routing when known.
 *
 * @example
 * ```ts
 * httpOperation(req, { route: '/orders/:id' }) // { kind: 'http', method: 'GET', path: '/orders/42', route: '/orders/:id', routing: undefined }
 * ```
 */
export function httpOperation(
  request: Pick<NodeHttpRequestLike, 'method' | 'url' | 'originalUrl'>,
  hints: HttpOperationHints = {},
): HttpOperation {
  const url = request.originalUrl ?? request.url ?? '/'
  const q = url.indexOf('?')
  return {
    kind: 'http',
    method: (request.method ?? 'GET').toUpperCase(),
    path: hints.path ?? (q === -1 ? url : url.slice(0, q)),
    route: hints.route,
    routing: hints.routing,
  }
}

/**
 * The lines of header `name` (lower case) in a Node request's `rawHeaders`, in order, as
 * `request.headersDistinct[name]` holds them (Node builds that object from `rawHeaders` the same way:
 * every name lower-cased, every line kept); `undefined` when there is none.
 */
function headerLines(raw: readonly string[], name: string): string[] | undefined {
  let lines: string[] | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const field = raw[i]!
    if (field.length === name.length && (field === name || field.toLowerCase() === name)) {
      if (lines === undefined) lines = [raw[i + 1]!]
      else lines.push(raw[i + 1]!)
    }
  }
  return lines
}
