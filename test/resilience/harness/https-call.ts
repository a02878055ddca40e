// The client side of the HTTP adapters: one HTTPS request per call, on a fresh TLS connection (so
// every call of the load generator is also a handshake, the thing a rotation can break), with bounded
// waits. The server's certificate is verified against `trust` and, when given, must carry `serverId`.
import { request as httpsRequest } from 'node:https'
import type { PeerCertificate } from 'node:tls'
import { rawRequest } from './raw-http.js'
import type { CallOutcome, CallRequest, RawCallRequest, RunningService } from './service.js'

const PATHS = { whoami: '/whoami', healthz: '/healthz' } as const

function checkServer(serverId: string | undefined) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    if (serverId === undefined) return undefined
    const uris = (cert.subjectaltname ?? '').split(', ').filter((n) => n.startsWith('URI:'))
    return uris.length === 1 && uris[0] === `URI:${serverId}`
      ? undefined
      : new Error(`server certificate is not an X.509-SVID for ${serverId}`)
  }
}

/** Sends one call to an HTTP service (`GET /whoami` or `GET /healthz`). */
export function httpsCall(service: RunningService, req: CallRequest): Promise<CallOutcome> {
  const timeoutMs = req.timeoutMs ?? 5000
  const headers: Record<string, string | string[]> = { accept: 'application/json' }
  if (req.bearer !== undefined) headers.authorization = `Bearer ${req.bearer}`
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k] = typeof v === 'string' ? v : [...v]
  return new Promise<CallOutcome>((resolve) => {
    let secure = false
    let settled = false
    const done = (o: CallOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(o)
    }
    const r = httpsRequest(
      new URL(PATHS[req.operation], service.url),
      {
        method: 'GET',
        agent: false,
        ca: [...req.trust],
        checkServerIdentity: checkServer(req.serverId),
        ...(req.certificate ? { cert: req.certificate.cert, key: req.certificate.key } : {}),
        ...(req.from ? { localAddress: req.from } : {}),
        headers,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', (e) => done({ kind: 'failed', stage: 'connection', error: e.message }))
        res.on('end', () => done(outcomeOf(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))))
      },
    )
    r.on('socket', (s) => s.once('secureConnect', () => (secure = true)))
    r.on('error', (e) =>
      done({ kind: 'failed', stage: secure ? 'connection' : 'handshake', error: e.message }),
    )
    const timer = setTimeout(() => {
      r.destroy()
      done({ kind: 'failed', stage: 'timeout', error: `no answer within ${timeoutMs} ms` })
    }, timeoutMs)
    r.end()
  })
}

function outcomeOf(status: number, text: string): CallOutcome {
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON (a Node-level refusal such as 431): keep the text
  }
  if (status === 200) return { kind: 'ok', status, body }
  const code = (body as { code?: unknown } | null)?.code
  return { kind: 'refused', status, code: typeof code === 'string' ? code : undefined, body }
}

/** Sends one call with raw header lines (the bad-input table) to an HTTP service. */
export async function httpsCallRaw(service: RunningService, req: RawCallRequest): Promise<CallOutcome> {
  try {
    const r = await rawRequest({
      url: service.url,
      path: PATHS[req.operation],
      headers: [['accept', 'application/json'], ...req.lines],
      ca: req.trust,
      ...(req.certificate ? { cert: req.certificate } : {}),
      ...(req.from ? { from: req.from } : {}),
    })
    return outcomeOf(r.status, r.body)
  } catch (err) {
    return { kind: 'failed', stage: 'connection', error: (err as Error).message }
  }
}
