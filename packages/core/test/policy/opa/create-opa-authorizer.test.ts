import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AccessDeniedError, toHttpResponse } from '@svidkit/core/errors'
import { type AuthorizationInput, callerFromId, toAccessDeniedError } from '@svidkit/core/policy'
import { createOpaAuthorizer } from '@svidkit/core/policy/opa'
import { SpiffeId } from '@svidkit/core/spiffe-id'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void

let server: Server
let base: string
let handler: Handler
const received: {
  url: string | undefined
  method: string | undefined
  headers: IncomingMessage['headers']
  body: unknown
}[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => {
      body += c
    })
    req.on('end', () => {
      received.push({
        url: req.url,
        method: req.method,
        headers: req.headers,
        body: JSON.parse(body || 'null'),
      })
      handler(req, body, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

beforeEach(() => {
  received.length = 0
})

const json =
  (status: number, value: unknown): Handler =>
  (_req, _body, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value))
  }

const input: AuthorizationInput = {
  caller: callerFromId('spiffe://example.org/ns/shop/sa/web', {
    channel: 'jwt',
    scopes: ['orders:read'],
    claims: { azp: 'portal' },
    captures: { namespace: 'shop' },
  }),
  self: SpiffeId.parse('spiffe://example.org/ns/shop/sa/orders'),
  operation: { kind: 'http', method: 'get', path: '/orders/%31' },
}

describe('createOpaAuthorizer against a stub OPA on 127.0.0.1', () => {
  test('POSTs {input} to /v1/data/<path>; result true allows', async () => {
    handler = json(200, { result: true, decision_id: 'd-1' })
    const a = createOpaAuthorizer({
      url: base,
      path: '/svidkit/authz/allow',
      headers: { 'x-opa-token': 'opa-secret' },
    })
    expect(await a.authorize(input)).toEqual({
      decision: 'allow',
      rule: null,
      reason: 'allowed by OPA decision "svidkit/authz/allow"',
      audit: [],
      decisionId: 'd-1',
    })
    expect(received).toHaveLength(1)
    expect(received[0]?.method).toBe('POST')
    expect(received[0]?.url).toBe('/v1/data/svidkit/authz/allow')
    expect(received[0]?.headers['content-type']).toBe('application/json')
    expect(received[0]?.headers['x-opa-token']).toBe('opa-secret')
    expect(received[0]?.body).toEqual({
      input: {
        caller: {
          channel: 'jwt',
          spiffeId: 'spiffe://example.org/ns/shop/sa/web',
          trustDomain: 'example.org',
          scopes: ['orders:read'],
          captures: { namespace: 'shop' },
          claims: { azp: 'portal' },
        },
        self: 'spiffe://example.org/ns/shop/sa/orders',
        operation: { kind: 'http', method: 'GET', path: '/orders/1' },
      },
    })
  })

  test('result false denies', async () => {
    handler = json(200, { result: false })
    const d = await createOpaAuthorizer({ url: base, path: 'svidkit/authz/allow' }).authorize(input)
    expect(d).toEqual({
      decision: 'deny',
      rule: null,
      reason: 'denied by OPA decision "svidkit/authz/allow"',
      audit: [],
    })
  })

  test('an object result carries allow, rule, reason and requiredScopes', async () => {
    handler = json(200, {
      result: {
        allow: false,
        rule: 'needs-write',
        reason: 'write scope needed',
        requiredScopes: ['orders:write'],
      },
    })
    const d = await createOpaAuthorizer({ url: base, path: 'svidkit/authz' }).authorize(input)
    expect(d).toEqual({
      decision: 'deny',
      rule: 'needs-write',
      reason: 'denied by OPA decision "svidkit/authz": write scope needed',
      audit: [],
      requiredScopes: ['orders:write'],
    })
    expect(toAccessDeniedError(d).code).toBe('ERR_SCOPE_MISSING')
    handler = json(200, { result: { allow: true, rule: 'r' } })
    expect(await createOpaAuthorizer({ url: base, path: 'svidkit/authz' }).authorize(input)).toMatchObject({
      decision: 'allow',
      rule: 'r',
    })
  })

  test('a missing result (undefined decision) denies', async () => {
    handler = json(200, {})
    const d = await createOpaAuthorizer({ url: base, path: 'no/such/rule' }).authorize(input)
    expect(d).toMatchObject({
      decision: 'deny',
      reason: 'OPA decision "no/such/rule" is undefined: default deny',
    })
  })

  test('a result of another shape denies', async () => {
    handler = json(200, { result: 'yes' })
    expect((await createOpaAuthorizer({ url: base, path: 'a' }).authorize(input)).decision).toBe('deny')
    handler = json(200, { result: { allow: 'true' } })
    expect((await createOpaAuthorizer({ url: base, path: 'a' }).authorize(input)).decision).toBe('deny')
  })

  test('HTTP 500 throws ERR_AUTHORIZER_UNAVAILABLE (503) by default', async () => {
    handler = json(500, { code: 'internal_error' })
    const a = createOpaAuthorizer({ url: base, path: 'svidkit/authz/allow' })
    const err = await a.authorize(input).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(AccessDeniedError)
    expect(err).toMatchObject({
      code: 'ERR_AUTHORIZER_UNAVAILABLE',
      message: 'authz: OPA decision "svidkit/authz/allow" is unavailable: HTTP 500',
    })
    expect(toHttpResponse(err).status).toBe(503)
  })

  test('HTTP 500 with onUnavailable: deny returns a deny decision', async () => {
    handler = json(500, {})
    const d = await createOpaAuthorizer({ url: base, path: 'p', onUnavailable: 'deny' }).authorize(input)
    expect(d).toMatchObject({
      decision: 'deny',
      rule: null,
      reason: 'OPA decision "p" is unavailable (HTTP 500): failing closed',
    })
  })

  test('a body that is not JSON is unavailable', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"result": tru')
    }
    await expect(createOpaAuthorizer({ url: base, path: 'p' }).authorize(input)).rejects.toMatchObject({
      code: 'ERR_AUTHORIZER_UNAVAILABLE',
      reason: 'OPA decision "p" is unavailable: response is not JSON',
    })
  })

  test('a hanging OPA times out', async () => {
    handler = () => {
      // never answer
    }
    const started = performance.now()
    await expect(
      createOpaAuthorizer({ url: base, path: 'p', timeoutMs: 100 }).authorize(input),
    ).rejects.toMatchObject({
      code: 'ERR_AUTHORIZER_UNAVAILABLE',
      reason: 'OPA decision "p" is unavailable: no answer within 100 ms',
    })
    expect(performance.now() - started).toBeLessThan(5_000)
    const d = await createOpaAuthorizer({
      url: base,
      path: 'p',
      timeoutMs: 100,
      onUnavailable: 'deny',
    }).authorize(input)
    expect(d.decision).toBe('deny')
  })

  test('a refused connection is unavailable', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    await expect(
      createOpaAuthorizer({ url: `http://127.0.0.1:${port}`, path: 'p' }).authorize(input),
    ).rejects.toMatchObject({
      code: 'ERR_AUTHORIZER_UNAVAILABLE',
      reason: 'OPA decision "p" is unavailable: request failed',
    })
  })

  test('OIDC callers, gRPC operations and a custom input mapping', async () => {
    handler = json(200, { result: true })
    const oidcInput: AuthorizationInput = {
      caller: callerFromId({ iss: 'https://login.example.com', sub: 'alice' }),
      self: undefined,
      operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' },
    }
    await createOpaAuthorizer({ url: `${base}/`, path: 'p' }).authorize(oidcInput)
    expect(received[0]?.body).toEqual({
      input: {
        caller: {
          channel: 'oidc',
          principal: { iss: 'https://login.example.com', sub: 'alice' },
          scopes: [],
          captures: {},
        },
        self: null,
        operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' },
      },
    })
    await createOpaAuthorizer({ url: base, path: 'p', input: (i) => ({ who: i.caller.channel }) }).authorize(
      oidcInput,
    )
    expect(received[1]?.body).toEqual({ input: { who: 'oidc' } })
  })

  test('paths that are not in normal form are denied without asking OPA', async () => {
    handler = json(200, { result: true })
    const d = await createOpaAuthorizer({ url: base, path: 'p' }).authorize({
      ...input,
      operation: { kind: 'http', method: 'GET', path: '/a/%2e%2e/admin' },
    })
    expect(d.decision).toBe('deny')
    expect(received).toHaveLength(0)
  })

  test('options are validated eagerly', () => {
    const bad = (o: object) => () => createOpaAuthorizer(o as never)
    expect(bad({ url: 'not a url', path: 'p' })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(bad({ url: 'ftp://127.0.0.1', path: 'p' })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(bad({ url: base, path: '' })).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
    expect(bad({ url: base, path: 'a/../b' })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(bad({ url: base, path: 'p', timeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(bad({ url: base, path: 'p', onUnavailable: 'allow' })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})
