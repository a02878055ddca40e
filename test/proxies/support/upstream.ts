// The Node application behind the proxies: a plain HTTP server on 127.0.0.1 that authenticates every
// request with @svidkit/core's createCallerVerifier and answers with what it decided and what it saw.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { credentialsFromNodeRequest } from '@svidkit/core/adapter'
import type { BundleSet } from '@svidkit/core/bundle'
import { type CallerVerifierOptions, createCallerVerifier } from '@svidkit/core/caller'
import { toHttpResponse } from '@svidkit/core/errors'

/** The address the proxies connect from (`proxy_bind` / `source`); the only trusted peer. */
export const PROXY_SOURCE = '127.0.0.2'

/** Headers the application reports back, line by line, so tests can see what the proxy sent. */
export const ECHOED_HEADERS = ['x-client-cert', 'x-ssl-client-cert', 'x-forwarded-client-cert'] as const

export interface UpstreamBody {
  readonly ok: boolean
  readonly status: number
  /** On success: the caller's channel and SPIFFE ID, and whether a certificate was verified. */
  readonly channel?: string
  readonly spiffeId?: string
  readonly certificateVerified?: boolean
  /** On failure: the svidkit error code. */
  readonly code?: string
  /** The direct peer as the application saw it. */
  readonly peerAddress: string | undefined
  /** Every line of each echoed header, as received. */
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>
}

export interface Upstream {
  readonly port: number
  close(): Promise<void>
}

export interface UpstreamOptions {
  readonly bundles: BundleSet
  /** The forwarded-certificate channel: the proxy's format and header name. */
  readonly forwardedCert?: { format: 'nginx' | 'haproxy'; header: string }
  /** The XFCC `By` the application requires (the Envoy-shaped checks). */
  readonly xfccBy: string
}

/**
 * The application's verifier: both proxy channels (the forwarded certificate of the proxy under test
 * and Envoy XFCC) trust only {@link PROXY_SOURCE}. This server has no TLS, so the mTLS channel is off:
 * with it on, a proxy must be trusted by its SPIFFE ID, never by address alone.
 */
export function verifierOptions(options: UpstreamOptions): CallerVerifierOptions {
  const trustedPeers = { addresses: [PROXY_SOURCE] }
  return {
    bundles: options.bundles,
    audit: false,
    mtls: false,
    xfcc: { trustedPeers, by: options.xfccBy },
    ...(options.forwardedCert ? { forwardedCert: { ...options.forwardedCert, trustedPeers } } : {}),
  }
}

export async function startUpstream(options: UpstreamOptions): Promise<Upstream> {
  const verifier = createCallerVerifier(verifierOptions(options))
  const reply = (
    req: IncomingMessage,
    res: ServerResponse,
    body: Omit<UpstreamBody, 'headers' | 'peerAddress'>,
  ) => {
    const headers: Record<string, readonly string[] | undefined> = {}
    for (const name of ECHOED_HEADERS) headers[name] = req.headersDistinct[name]
    const text = JSON.stringify({ ...body, peerAddress: req.socket.remoteAddress, headers })
    res.writeHead(body.status, { 'content-type': 'application/json', connection: 'close' }).end(text)
  }
  const server = createServer(async (req, res) => {
    try {
      const { caller } = await verifier.verifyCaller(credentialsFromNodeRequest(verifier, req))
      reply(req, res, {
        ok: true,
        status: 200,
        channel: caller?.channel,
        spiffeId: caller?.spiffeId?.toString(),
        certificateVerified: caller?.certificate !== undefined,
      })
    } catch (err) {
      const r = toHttpResponse(err)
      reply(req, res, { ok: false, status: r.status, code: r.body.code })
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
