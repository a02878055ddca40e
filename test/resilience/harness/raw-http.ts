// A raw HTTP/1.1 client over TLS for the bad-input table: it writes header lines byte for byte (the
// same name twice, non-ASCII bytes, any size), which node:http's client refuses to send.
import { connect } from 'node:tls'

export interface RawRequest {
  readonly url: string
  readonly path: string
  /** Header lines in order; a Buffer value is written as its bytes. */
  readonly headers: readonly (readonly [string, string | Buffer])[]
  readonly ca: readonly string[]
  readonly cert?: { readonly cert: string; readonly key: string }
  readonly from?: string
  readonly timeoutMs?: number
}

export interface RawResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = []
  let i = 0
  while (i < body.length) {
    const eol = body.indexOf('\r\n', i)
    if (eol < 0) break
    const size = Number.parseInt(body.subarray(i, eol).toString('latin1'), 16)
    if (!(size > 0)) break
    out.push(body.subarray(eol + 2, eol + 2 + size))
    i = eol + 2 + size + 2
  }
  return Buffer.concat(out)
}

/** Sends one GET with `Connection: close` and reads the whole response (bounded wait). */
export function rawRequest(req: RawRequest): Promise<RawResponse> {
  const url = new URL(req.url)
  const head = [
    Buffer.from(`GET ${req.path} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: close\r\n`, 'latin1'),
    ...req.headers.map(([name, value]) =>
      Buffer.concat([Buffer.from(`${name}: `, 'latin1'), Buffer.from(value), Buffer.from('\r\n', 'latin1')]),
    ),
    Buffer.from('\r\n', 'latin1'),
  ]
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: url.hostname,
      port: Number(url.port),
      ca: [...req.ca],
      checkServerIdentity: () => undefined, // the fixtures' server certificate is for 127.0.0.1
      ...(req.cert ? { cert: req.cert.cert, key: req.cert.key } : {}),
      ...(req.from ? { localAddress: req.from } : {}),
    })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no response within the time limit'))
    }, req.timeoutMs ?? 5000)
    // write, not end: a half-closed client makes the server skip its 431 (the socket is no longer writable)
    socket.once('secureConnect', () => socket.write(Buffer.concat(head)))
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      const raw = Buffer.concat(chunks)
      const split = raw.indexOf('\r\n\r\n')
      if (split < 0) return reject(new Error(`no HTTP response (${raw.length} bytes)`))
      const lines = raw.subarray(0, split).toString('latin1').split('\r\n')
      const status = Number(lines[0]!.split(' ')[1])
      const headers: Record<string, string> = {}
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':')
        headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim()
      }
      let body: Buffer = raw.subarray(split + 4)
      if (headers['transfer-encoding'] === 'chunked') body = dechunk(body)
      resolve({ status, headers, body: body.toString('utf8') })
    })
  })
}
