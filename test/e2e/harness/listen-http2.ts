// Listens with an HTTP/2 server (connect-node's, in the e2e, resilience and package tests) on an
// ephemeral port and closes it at once: `close()` destroys the open sessions first, since an HTTP/2
// server's `close()` otherwise waits for every client session to end.
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'

/** `server` listening on `host`, its port, and a `close()` that ends its sessions. */
export async function listenHttp2(
  server: Http2SecureServer,
  host: string,
): Promise<{ readonly port: number; close(): Promise<void> }> {
  const sessions = new Set<ServerHttp2Session>()
  server.on('session', (s) => {
    sessions.add(s)
    s.once('close', () => sessions.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy()
        server.close(() => resolve())
      }),
  }
}
