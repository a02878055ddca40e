// svidkit's side of the mTLS pairings: a node:https server with core's mTLS server config, and an
// undici fetch with core's SPIFFE dispatcher. Both read the SVID and bundles from a live source.
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import {
  createMtlsServerConfig,
  createSpiffeDispatcher,
  getTlsCaller,
  type TlsAuthorize,
  type TlsSource,
} from '@svidkit/core/tls'
import { fetch } from 'undici'

/** A running svidkit mTLS server. */
export interface SvidkitServer {
  readonly url: string
  /** Errors of refused clients (`tlsClientError`), in order. */
  readonly refused: Error[]
  close(): Promise<void>
}

/** An HTTPS server answering `{"peer": <caller SPIFFE ID>, "path": …}` to authorized mTLS clients. */
export async function startSvidkitServer(source: TlsSource, authorize: TlsAuthorize): Promise<SvidkitServer> {
  const mtls = createMtlsServerConfig({ source, authorize, onError: () => undefined })
  const server = mtls.attach(
    https.createServer(mtls.serverOptions, (req, res) => {
      const caller = getTlsCaller(req)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ peer: caller?.spiffeId?.toString(), path: req.url }))
    }),
  )
  const refused: Error[] = []
  server.on('tlsClientError', (err: Error) => refused.push(err))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    refused,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** One GET over svidkit mTLS (undici fetch + `createSpiffeDispatcher`). Throws what fetch throws. */
export async function svidkitGet(
  source: TlsSource,
  url: string,
  authorize: TlsAuthorize,
): Promise<{ status: number; body: Record<string, unknown>; serverId: string | undefined }> {
  let serverId: string | undefined
  const dispatcher = createSpiffeDispatcher({
    source,
    authorize,
    onVerified: (peer) => {
      serverId = peer.id.toString()
    },
  })
  try {
    const res = await fetch(url, { dispatcher, signal: AbortSignal.timeout(10_000) })
    const text = await res.text()
    let body: Record<string, unknown> = {}
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      body = { text }
    }
    return { status: res.status, body, serverId }
  } finally {
    await dispatcher.close()
  }
}
