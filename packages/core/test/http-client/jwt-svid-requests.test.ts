import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { jwtSvidInterceptor, withJwtSvid } from '@svidkit/core/http-client'
import { StaticSource } from '@svidkit/core/source'
import { matchId, matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig, createSpiffeDispatcher, getTlsCaller } from '@svidkit/core/tls'
import { codeOf, TestCA } from '@svidkit/testing'
import { Agent, fetch as undiciFetch } from 'undici'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { close, HOST, listen, within } from '../tls/helpers.js'

let ca: TestCA
let source: StaticSource
let plain: http.Server
let base: string
let otherBase: string
let other: http.Server
let mints = 0
const seen: (string | undefined)[] = []

const payloadOf = (authorization: string | undefined): Record<string, unknown> => {
  const token = authorization!.replace(/^Bearer /, '')
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
}

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'a.test' })
  source = new StaticSource({
    svid: await ca.issueX509Svid({ id: '/client' }),
    bundles: ca.x509Bundle(),
    mintJwtSvid: (p) => {
      mints++
      return ca.mintJwtSvid({ subject: '/client', audience: [p.audience, ...(p.extraAudiences ?? [])] })
    },
  })
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push(req.headers.authorization)
    res.end(
      JSON.stringify({ authorization: req.headers.authorization ?? null, x: req.headers['x-test'] ?? null }),
    )
  }
  plain = http.createServer(handler)
  other = http.createServer(handler)
  base = `http://${HOST}:${await listen(plain)}`
  otherBase = `http://${HOST}:${await listen(other)}`
})

afterAll(async () => {
  await close(plain)
  await close(other)
  await source.close()
})

describe('withJwtSvid', () => {
  test('adds Authorization: Bearer <JWT-SVID> for the audience (undici fetch and global fetch)', async () => {
    for (const f of [undiciFetch, globalThis.fetch] as const) {
      const authed = withJwtSvid(f as typeof globalThis.fetch, {
        source,
        audience: 'orders',
        extraAudiences: ['audit'],
      })
      const res = await within(authed(`${base}/x`, { headers: { 'x-test': '1' } }))
      const body = (await res.json()) as { authorization: string; x: string }
      expect(body.x).toBe('1')
      expect(payloadOf(body.authorization)).toMatchObject({
        sub: 'spiffe://a.test/client',
        aud: ['orders', 'audit'],
      })
    }
  })

  test('keeps an Authorization header the caller set', async () => {
    const authed = withJwtSvid(undiciFetch, { source, audience: 'orders' })
    const res = await within(authed(`${base}/`, { headers: { Authorization: 'Bearer mine' } }))
    expect(((await res.json()) as { authorization: string }).authorization).toBe('Bearer mine')
  })

  test('a Request input keeps its headers and gains the token', async () => {
    const authed = withJwtSvid(globalThis.fetch, { source, audience: 'orders' })
    const res = await within(authed(new Request(`${base}/r`, { headers: { 'x-test': 'req' } })))
    const body = (await res.json()) as { authorization: string; x: string }
    expect(body.x).toBe('req')
    expect(payloadOf(body.authorization).aud).toEqual(['orders'])
  })

  test('with origins, other origins get no token', async () => {
    const authed = withJwtSvid(undiciFetch, { source, audience: 'orders', origins: [base] })
    const before = mints
    const res = await within(authed(new URL(`${otherBase}/leak`)))
    expect(((await res.json()) as { authorization: string | null }).authorization).toBeNull()
    expect(mints).toBe(before)
    const ok = await within(authed(`${base}/fine`))
    expect(((await ok.json()) as { authorization: string | null }).authorization).toMatch(/^Bearer /)
  })

  test('a source failure rejects the call and nothing is sent', async () => {
    const empty = new StaticSource({})
    const authed = withJwtSvid(undiciFetch, { source: empty, audience: 'orders' })
    const count = seen.length
    const err = await authed(`${base}/`).catch((e: unknown) => e)
    expect(codeOf(err)).toBe('ERR_SOURCE_NO_SVID')
    expect(seen.length).toBe(count)
    await empty.close()
  })

  test('options are validated eagerly', () => {
    expect(() => withJwtSvid(undiciFetch, { source, audience: '' })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => withJwtSvid(undiciFetch, { source: {} as never, audience: 'a' })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => withJwtSvid(undiciFetch, { source, audience: 'a', origins: ['not a url'] })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})

describe('jwtSvidInterceptor', () => {
  test('composed on a plain undici Agent: adds the token, keeps an existing one', async () => {
    const agent = new Agent()
    const dispatcher = agent.compose(jwtSvidInterceptor({ source, audience: 'orders' }))
    try {
      const res = await within(undiciFetch(`${base}/i`, { dispatcher }))
      expect(payloadOf(((await res.json()) as { authorization: string }).authorization).aud).toEqual([
        'orders',
      ])
      const kept = await within(
        undiciFetch(`${base}/i`, { dispatcher, headers: { authorization: 'Bearer mine' } }),
      )
      expect(((await kept.json()) as { authorization: string }).authorization).toBe('Bearer mine')
    } finally {
      await agent.close()
    }
  })

  test('a source failure rejects the fetch', async () => {
    const empty = new StaticSource({})
    const agent = new Agent()
    const dispatcher = agent.compose(jwtSvidInterceptor({ source: empty, audience: 'orders' }))
    try {
      const err = await within(undiciFetch(`${base}/`, { dispatcher })).catch((e: unknown) => e)
      expect(codeOf(err)).toBe('ERR_SOURCE_NO_SVID')
    } finally {
      await agent.close()
      await empty.close()
    }
  })

  test('over mTLS: the server sees the mTLS caller and the JWT-SVID', async () => {
    const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('a.test') })
    // The server presents /client too here: one source for both ends keeps the test small.
    const server = mtls.attach(
      https.createServer(mtls.serverOptions, (req, res) => {
        res.end(`${getTlsCaller(req)?.spiffeId} ${payloadOf(req.headers.authorization).aud}`)
      }),
    )
    await listen(server)
    const port = (server.address() as AddressInfo).port
    const dispatcher = createSpiffeDispatcher({ source, authorize: matchId('spiffe://a.test/client') })
    try {
      const composed = dispatcher.compose(jwtSvidInterceptor({ source, audience: 'orders' }))
      const res = await within(undiciFetch(`https://${HOST}:${port}/`, { dispatcher: composed }))
      expect(await res.text()).toBe('spiffe://a.test/client orders')
    } finally {
      await dispatcher.close()
      await close(server)
    }
  })
})
