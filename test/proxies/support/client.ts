// One request, over HTTPS with a client certificate (through a proxy) or plain HTTP (straight to the
// application), with a bounded wait. Never reuses a connection.
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { UpstreamBody } from './upstream.js'

export interface RequestOptions {
  readonly port: number
  readonly headers?: OutgoingHttpHeaders | readonly (readonly [string, string])[]
  /** TLS (to a proxy): the CA of the proxy's server certificate and an optional client certificate. */
  readonly tls?: { ca: string; cert?: string; key?: string }
  /** The local address to connect from (127.0.0.x). */
  readonly localAddress?: string
  readonly timeoutMs?: number
}

export type Outcome =
  | {
      readonly kind: 'response'
      readonly status: number
      readonly text: string
      readonly json?: UpstreamBody
    }
  | { readonly kind: 'error'; readonly error: string }

export function send(options: RequestOptions): Promise<Outcome> {
  const timeoutMs = options.timeoutMs ?? 10_000
  return new Promise((resolve) => {
    let settled = false
    const settle = (o: Outcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(o)
    }
    // Raw header lines (to send one header twice, in two spellings) get no automatic Host header.
    const headers = Array.isArray(options.headers)
      ? ['host', `127.0.0.1:${options.port}`, ...options.headers.flat()]
      : options.headers
    const common = {
      host: '127.0.0.1',
      port: options.port,
      path: '/orders',
      method: 'GET',
      agent: false as const,
      headers: headers as OutgoingHttpHeaders,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    }
    const req = options.tls ? httpsRequest({ ...common, ...options.tls }) : httpRequest(common)
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`))
    }, timeoutMs)
    req.on('error', (err) =>
      settle({ kind: 'error', error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` }),
    )
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', (err) => settle({ kind: 'error', error: err.message }))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: UpstreamBody | undefined
        if ((res.headers['content-type'] ?? '').startsWith('application/json')) json = JSON.parse(text)
        settle({ kind: 'response', status: res.statusCode ?? 0, text, ...(json ? { json } : {}) })
      })
    })
    req.end()
  })
}

/** The application's answer; fails the test with what happened instead when there was none. */
export function bodyOf(outcome: Outcome): UpstreamBody {
  if (outcome.kind === 'error') throw new Error(`request failed: ${outcome.error}`)
  if (!outcome.json)
    throw new Error(`not an answer from the application (${outcome.status}): ${outcome.text}`)
  return outcome.json
}
