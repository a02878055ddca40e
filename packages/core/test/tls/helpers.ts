// Shared plumbing for the TLS tests: loopback servers on port 0, bounded waits, raw clients.

import https from 'node:https'
import type { AddressInfo, Server as NetServer } from 'node:net'
import type { TlsOptions } from 'node:tls'
import tls from 'node:tls'

export const HOST = '127.0.0.1'

export async function listen(server: NetServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}

export async function close(server: NetServer & { closeAllConnections?: () => void }): Promise<void> {
  server.closeAllConnections?.()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

/** Rejects after `ms`: every network wait in these tests is bounded. */
export function within<T>(promise: Promise<T>, ms = 5000, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export interface Reply {
  status: number
  body: string
}

/** One HTTPS request; resolves with the reply or rejects with the socket/TLS error. */
export function httpsGet(port: number, options: https.RequestOptions = {}, path = '/'): Promise<Reply> {
  return within(
    new Promise<Reply>((resolve, reject) => {
      const req = https.request({ host: HOST, port, path, method: 'GET', ...options }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          body += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    }),
    5000,
    'https request',
  )
}

/** Raw client material: a key + chain presented without svidkit (to test the server on its own). */
export interface RawClient {
  key?: string
  cert?: string
  ca?: string
}

/** A plain node:https request presenting `client` (no svidkit), not checking the server's name. */
export function rawHttpsGet(
  port: number,
  client: RawClient,
  extra: https.RequestOptions = {},
): Promise<Reply> {
  return httpsGet(port, {
    agent: false,
    ...client,
    rejectUnauthorized: client.ca !== undefined,
    checkServerIdentity: () => undefined,
    ...extra,
  })
}

/** Resolves with the next `tlsClientError` of a server (the svidkit refusal, with its `code`). */
export function nextClientError(server: NetServer): Promise<Error & { code?: string }> {
  return within(
    new Promise((resolve) => server.once('tlsClientError', (err: Error & { code?: string }) => resolve(err))),
    5000,
    'tlsClientError',
  )
}

/** A raw TLS server (no svidkit) presenting `key`/`cert`, counting every application byte it receives. */
export function byteCountingServer(options: TlsOptions): { server: tls.Server; received: () => number } {
  let bytes = 0
  const server = tls.createServer(options, (socket) => {
    socket.on('data', (d: Buffer) => {
      bytes += d.length
    })
    socket.on('error', () => {})
  })
  server.on('tlsClientError', () => {})
  return { server, received: () => bytes }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
