// A real HTTPS client: one fresh TLS connection per request (no agent, no session reuse), an optional
// client certificate, an optional local address (Linux routes all of 127.0.0.0/8 to lo, so a client
// "from 127.0.0.2" is a different peer to the server), and bounded waits.
import { request as httpsRequest } from 'node:https'
import type { PeerCertificate } from 'node:tls'
import type { TestX509Svid } from '@svidkit/testing'

/** One request of a scenario. */
export interface ClientRequest {
  /** GET this path. */
  readonly path: string
  /** Present this X.509-SVID as the client certificate. */
  readonly certificate?: TestX509Svid
  /** Connect from this local address (default: the kernel's choice, 127.0.0.1). */
  readonly from?: string
  /** Extra headers; an array value is sent as several header lines. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>
}

/** What the table checks. */
export interface ClientResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: unknown
}

const TIMEOUT_MS = 5000

/**
 * The TLS options of every table client (HTTPS, gRPC, Connect) for `req`: trust `ca`, present the
 * scenario's client certificate, connect from its local address.
 */
export function scenarioTls(
  req: ClientRequest,
  ca: readonly string[],
): { ca: string[]; cert?: string; key?: string; localAddress?: string } {
  return {
    ca: [...ca],
    ...(req.certificate ? { cert: req.certificate.certificatesPem, key: req.certificate.privateKeyPem } : {}),
    ...(req.from ? { localAddress: req.from } : {}),
  }
}

/** A `checkServerIdentity` for a server that presents its X.509-SVID: its SPIFFE ID, not a hostname. */
export function serverIs(spiffeId: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) =>
    cert.subjectaltname?.split(', ').includes(`URI:${spiffeId}`)
      ? undefined
      : new Error(`the server is not ${spiffeId}`)
}

/** Sends `req` to `baseUrl` trusting `ca` (PEM) for the server certificate. */
export function send(baseUrl: string, req: ClientRequest, ca: readonly string[]): Promise<ClientResponse> {
  const url = new URL(req.path, baseUrl)
  return new Promise((resolve, reject) => {
    const r = httpsRequest(
      url,
      {
        method: 'GET',
        agent: false,
        ...scenarioTls(req, ca),
        headers: { accept: 'application/json', ...(req.headers as Record<string, string | string[]>) },
        timeout: TIMEOUT_MS,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: unknown = text
          try {
            body = JSON.parse(text)
          } catch {
            // not JSON: keep the text, the assertion will show it
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body })
        })
      },
    )
    r.on('timeout', () => r.destroy(new Error(`request to ${url.href} timed out`)))
    r.on('error', reject)
    r.end()
  })
}
