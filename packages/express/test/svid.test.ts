import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { BundleSet } from '@svidkit/core/bundle'
import { createCallerVerifier } from '@svidkit/core/caller'
import { isSvidkitError } from '@svidkit/core/errors'
import { createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import {
  requireCaller,
  requireScopes,
  type SvidExpressOptions,
  svid,
  svidErrorHandler,
} from '@svidkit/express'
import { TestCA } from '@svidkit/testing'
import express, { type Express, type RequestHandler } from 'express'
import express4 from 'express4'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'

let ca: TestCA
let bundles: BundleSet

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  bundles = ca.bundleSet()
})

// Express 4 (through the `express4` alias) runs the same tests at run time; types are Express 5's.
const versions = [
  ['5', express],
  ['4', express4 as unknown as typeof express],
] as const

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
})

/** Serves `app` on 127.0.0.1 and returns a `get` that answers status, headers and JSON body. */
async function serve(app: Express) {
  const server = createServer(app)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers,
      signal: AbortSignal.timeout(5000),
    })
    const text = await r.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {}
    return {
      status: r.status,
      challenge: r.headers.get('www-authenticate'),
      body: body as Record<string, unknown>,
    }
  }
}

const bearer = async (subject: string, claims: Record<string, unknown> = {}) => ({
  authorization: `Bearer ${await ca.mintJwtSvid({ subject, audience: 'orders', claims })}`,
})

const who: RequestHandler = (req, res) => {
  res.json({ caller: req.caller?.spiffeId?.toString() ?? null, channel: req.caller?.channel ?? null })
}

describe.each(versions)('@svidkit/express on Express %s', (major, createExpress) => {
  const base = (extra: Partial<SvidExpressOptions> = {}) =>
    svid({ bundles, jwt: { audience: 'orders' }, audit: false, ...extra } as SvidExpressOptions)

  test('the version under test', async () => {
    const { readFile } = await import('node:fs/promises')
    const { createRequire } = await import('node:module')
    const pkg = createRequire(import.meta.url).resolve(
      major === '5' ? 'express/package.json' : 'express4/package.json',
    )
    expect(JSON.parse(await readFile(pkg, 'utf8')).version.split('.')[0]).toBe(major)
  })

  test('svid() sets a typed req.caller; refusals answer from the status table', async () => {
    const app = createExpress()
    let reached = 0
    app.get('/healthz', (_req, res) => {
      res.send('ok')
    })
    app.use(base())
    app.use((_req, _res, next) => {
      reached++
      next()
    })
    app.get('/orders', who)
    const get = await serve(app)
    expect((await get('/healthz')).status).toBe(200)
    const ok = await get('/orders', await bearer('/web'))
    expect(ok).toMatchObject({ status: 200, body: { caller: 'spiffe://example.org/web', channel: 'jwt' } })
    const none = await get('/orders')
    expect(none.status).toBe(401)
    expect(none.challenge).toBe('Bearer realm="svidkit"')
    expect(none.body).toEqual({
      statusCode: 401,
      error: 'unauthorized',
      code: 'ERR_CREDENTIALS_MISSING',
      message: expect.stringMatching(/^credentials: /),
    })
    const wrongAud = await ca.mintJwtSvid({ subject: '/web', audience: 'billing' })
    const bad = await get('/orders', { authorization: `Bearer ${wrongAud}` })
    expect(bad).toMatchObject({ status: 401, body: { code: 'ERR_JWT_SVID_AUDIENCE_MISMATCH' } })
    expect(bad.challenge).toMatch(
      /^Bearer realm="svidkit", error="invalid_token", error_description="jwtsvid: /,
    )
    const malformed = await get('/orders', { authorization: 'Bearer a b' })
    expect(malformed).toMatchObject({ status: 400, body: { code: 'ERR_CREDENTIALS_MALFORMED' } })
    expect(reached).toBe(1)
  })

  test('optional authentication, sharing one verifier', async () => {
    const app = createExpress()
    const auth = base()
    const maybe = svid({ verifier: auth.verifier, optional: true })
    app.get('/maybe', maybe, who)
    app.get('/maybe-admin', maybe, requireCaller({ callers: ['spiffe://example.org/admin'] }), who)
    app.get('/strict', auth, who)
    const get = await serve(app)
    expect((await get('/maybe')).body).toEqual({ caller: null, channel: null })
    expect((await get('/maybe', await bearer('/web'))).body).toMatchObject({
      caller: 'spiffe://example.org/web',
    })
    expect((await get('/maybe', { authorization: 'Bearer x.y.z' })).status).toBe(401)
    // requireCaller without a caller: 401, not 403.
    expect((await get('/maybe-admin')).body).toMatchObject({ code: 'ERR_CREDENTIALS_MISSING' })
    expect((await get('/maybe-admin', await bearer('/web'))).status).toBe(403)
    expect((await get('/maybe-admin', await bearer('/admin'))).status).toBe(200)
    expect((await get('/strict')).status).toBe(401)
  })

  test('requireCaller / requireScopes per route; boundary rules with self', async () => {
    const app = createExpress()
    app.use(
      base({
        self: 'spiffe://example.org/tenant/acme/orders',
        identityTemplates: ['/tenant/{tenant}/{service}'],
      }),
    )
    app.get('/admin', requireCaller({ callers: ['spiffe://example.org/tenant/acme/admin'] }), who)
    app.get('/write', requireScopes('orders:write'), who)
    app.get('/tenant', requireCaller({ boundary: { tenant: { sameAs: 'self' } } }), who)
    const get = await serve(app)
    const web = await bearer('/tenant/acme/web', { scope: 'orders:read' })
    const admin = await get('/admin', web)
    expect(admin).toMatchObject({ status: 403, body: { code: 'ERR_ACCESS_DENIED', error: 'forbidden' } })
    expect(admin.challenge).toBeNull()
    const scoped = await get('/write', web)
    expect(scoped).toMatchObject({
      status: 403,
      body: { code: 'ERR_SCOPE_MISSING', error: 'insufficient_scope' },
    })
    expect(scoped.challenge).toMatch(/error="insufficient_scope".*scope="orders:write"/)
    expect((await get('/write', await bearer('/tenant/acme/web', { scp: ['orders:write'] }))).status).toBe(
      200,
    )
    expect((await get('/tenant', web)).status).toBe(200)
    const other = await get('/tenant', await bearer('/tenant/globex/web'))
    expect(other).toMatchObject({ status: 403, body: { code: 'ERR_ACCESS_DENIED' } })
  })

  test('a requirement on svid() itself and a global policy: DENY beats ALLOW', async () => {
    const policy = definePolicy({
      defaultAction: 'deny',
      rules: [
        { id: 'no-legacy', action: 'DENY', from: [{ principals: ['spiffe://example.org/legacy'] }] },
        { id: 'members', from: [{ trustDomains: ['example.org'] }] },
      ],
    })
    const app = createExpress()
    app.use(base({ authorizer: createPolicyAuthorizer(policy), requirement: { channels: ['jwt'] } }))
    app.get('/orders', who)
    const get = await serve(app)
    expect((await get('/orders', await bearer('/web'))).status).toBe(200)
    const legacy = await get('/orders', await bearer('/legacy'))
    expect(legacy).toMatchObject({ status: 403, body: { code: 'ERR_ACCESS_DENIED' } })
    expect(String(legacy.body.message)).toContain('no-legacy')
  })

  test('errors: "next" with svidErrorHandler; other errors pass through', async () => {
    const app = createExpress()
    const seen: string[] = []
    app.use(base({ errors: 'next' }))
    app.get('/orders', who)
    app.get('/boom', () => {
      throw new Error('boom')
    })
    app.use(((err, _req, _res, next) => {
      seen.push(isSvidkitError(err) ? err.code : 'other')
      next(err)
    }) as express.ErrorRequestHandler)
    app.use(svidErrorHandler({ realm: 'orders' }))
    app.use(((_err, _req, res, _next) => {
      res.status(599).json({ fallback: true })
    }) as express.ErrorRequestHandler)
    const get = await serve(app)
    const r = await get('/orders')
    expect(r).toMatchObject({ status: 401, body: { code: 'ERR_CREDENTIALS_MISSING' } })
    expect(r.challenge).toBe('Bearer realm="orders"')
    expect(await get('/boom', await bearer('/web'))).toMatchObject({ status: 599, body: { fallback: true } })
    expect(seen).toEqual(['ERR_CREDENTIALS_MISSING', 'other'])
  })

  test('errorBody replaces the body only', async () => {
    const app = createExpress()
    app.use(base({ realm: 'orders', errorBody: (body, req) => ({ problem: body.code, path: req.path }) }))
    app.get('/orders', who)
    const get = await serve(app)
    const r = await get('/orders')
    expect(r).toEqual({
      status: 401,
      challenge: 'Bearer realm="orders"',
      body: { problem: 'ERR_CREDENTIALS_MISSING', path: '/orders' },
    })
  })

  test('routing: the policy sees paths as the routers match them; routers that disagree fail closed', async () => {
    const policy = createPolicyAuthorizer(
      definePolicy({
        rules: [
          { id: 'no-export', action: 'DENY', to: [{ paths: ['/orders/export'] }] },
          { id: 'all', from: [{ trustDomains: ['example.org'] }] },
        ],
      }),
    )
    const token = await bearer('/web')
    // Express's defaults: case-insensitive, trailing slash ignored.
    const loose = createExpress()
    loose.use(base({ authorizer: policy }))
    loose.get('/orders/export', who)
    const getLoose = await serve(loose)
    for (const path of ['/orders/export', '/orders/EXPORT', '/Orders/Export/']) {
      expect((await getLoose(path, token)).body, path).toMatchObject({ code: 'ERR_ACCESS_DENIED' })
    }
    // A case-sensitive router inside a case-insensitive app: one path, two ways to route it.
    const mixed = createExpress()
    mixed.use(base({ authorizer: policy }))
    const router = createExpress.Router({ caseSensitive: true })
    router.get('/orders/export', who)
    mixed.use(router)
    const getMixed = await serve(mixed)
    const refused = await getMixed('/orders/1', token)
    expect(refused).toMatchObject({ status: 500, body: { code: 'ERR_OPTIONS_INVALID' } })
    expect(refused.body.message).toContain('routers do not match paths the same way')
    // Stating the routing yourself is accepted as given.
    const stated = createExpress()
    stated.use(base({ authorizer: policy, routing: { caseSensitive: true, strictTrailingSlash: true } }))
    stated.use(router)
    const getStated = await serve(stated)
    expect((await getStated('/orders/export', token)).status).toBe(403)
    expect((await getStated('/orders/EXPORT', token)).status).toBe(404)
  })

  test('requireCaller without svid() before it is a 500 options error', async () => {
    const app = createExpress()
    app.get('/x', requireScopes('a'), who)
    app.use(svidErrorHandler())
    const get = await serve(app)
    expect(await get('/x')).toMatchObject({ status: 500, body: { code: 'ERR_OPTIONS_INVALID' } })
  })

  test('a boundary key the verifier templates do not capture: 500 on first use', async () => {
    const app = createExpress()
    app.use(base({ identityTemplates: ['/tenant/{tenant}/{service}'] }))
    app.get('/region', requireCaller({ boundary: { region: { sameAs: 'self' } } }), who)
    const get = await serve(app)
    expect(await get('/region', await bearer('/tenant/acme/web'))).toMatchObject({
      status: 500,
      body: { code: 'ERR_OPTIONS_INVALID' },
    })
  })

  test('audit: one event per decision through the configured logger', async () => {
    const events: Record<string, unknown>[] = []
    const logger = {
      info: (o: object) => events.push(o as Record<string, unknown>),
      warn: (o: object) => events.push(o as Record<string, unknown>),
    }
    const app = createExpress()
    app.use(base({ audit: { logger, telemetry: false } }))
    app.get('/admin', requireCaller({ id: 'admins', callers: ['spiffe://example.org/admin'] }), who)
    const get = await serve(app)
    await get('/admin', await bearer('/admin'))
    await get('/admin', await bearer('/web'))
    await get('/admin')
    expect(events.map((e) => [e.decision, e.rule ?? e.code])).toEqual([
      ['allow', 'admins'],
      ['deny', 'admins'],
      ['deny', 'ERR_CREDENTIALS_MISSING'],
    ])
  })
})

describe('options are validated when the middleware is created', () => {
  test('routing', () => {
    for (const routing of [{ mergeSlashes: true }, { caseSensitive: 'yes' }, null]) {
      expect(() => svid({ bundles, routing } as unknown as SvidExpressOptions)).toThrow(
        expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
      )
    }
  })

  test.each<[string, () => unknown, RegExp]>([
    ['bad errors mode', () => svid({ bundles, errors: 'throw' } as never), /errors/],
    ['bad optional', () => svid({ bundles, optional: 'yes' } as never), /optional/],
    ['bad realm', () => svid({ bundles, realm: 1 } as never), /realm/],
    ['bad errorBody', () => svid({ bundles, errorBody: {} } as never), /errorBody/],
    ['no bundles', () => svid({} as never), /bundles/],
    [
      'verifier and options',
      () => svid({ verifier: createCallerVerifier({ bundles, audit: false }), bundles } as never),
      /either/,
    ],
    ['bad verifier', () => svid({ verifier: {} } as never), /verifier/],
    ['bad requirement', () => svid({ bundles, requirement: { callerz: [] } } as never), /callerz/],
    ['bad requireCaller', () => requireCaller({ scopes: 'a' } as never), /scopes/],
    ['empty requireScopes', () => requireScopes(), /requireScopes/],
    ['requireScopes with spaces', () => requireScopes('a b'), /requireScopes/],
    ['bad svidErrorHandler', () => svidErrorHandler({ realm: 1 } as never), /realm/],
  ])('%s', (_name, create, message) => {
    expect(create).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID', message: expect.stringMatching(message) }),
    )
  })
})
