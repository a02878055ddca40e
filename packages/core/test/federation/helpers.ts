// Local HTTPS servers for the federation tests, all on 127.0.0.1 with an ephemeral port.

import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import { SvidkitError } from '@svidkit/core/errors'
import type { X509Svid } from '@svidkit/core/x509-svid'

export interface TestServer {
  readonly url: string
  readonly port: number
  readonly server: Server
  /** Requests that reached the HTTP layer (after a TLS handshake the client accepted). */
  readonly requests: IncomingMessage[]
  /** TCP connections accepted. */
  readonly connections: number
  close(): Promise<void>
}

export type TlsIdentity =
  | { svid: X509Svid & { certificatesPem: string; privateKeyPem: string } }
  | { key: string; cert: string }

/** An HTTPS server presenting `identity`, answering with `handler`. */
export async function startServer(
  identity: TlsIdentity,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const tls =
    'svid' in identity
      ? { key: identity.svid.privateKeyPem, cert: identity.svid.certificatesPem }
      : { key: identity.key, cert: identity.cert }
  const requests: IncomingMessage[] = []
  let connections = 0
  const server = createServer(tls, (req, res) => {
    requests.push(req)
    handler(req, res)
  })
  server.on('connection', () => connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    url: `https://127.0.0.1:${port}/`,
    port,
    server,
    requests,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** Answers with a fixed body (and no Content-Type unless given). */
export function respond(status: number, body: string | Buffer, headers: Record<string, string> = {}) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(status, headers)
    res.end(body)
  }
}

export async function errorOf(fn: () => unknown): Promise<SvidkitError> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof SvidkitError) return err
    throw err
  }
  throw new Error('expected a failure')
}

export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
