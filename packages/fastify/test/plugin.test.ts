import { Writable } from 'node:stream'
import type { BundleSet } from '@svidkit/core/bundle'
import { createCallerVerifier } from '@svidkit/core/caller'
import { createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import svidkit, { type SvidkitFastifyOptions } from '@svidkit/fastify'
import { TestCA } from '@svidkit/testing'
import Fastify from 'fastify'
import Fastify4 from 'fastify4'
import { beforeAll, describe, expect, test } from 'vitest'

let ca: TestCA
let bundles: BundleSet

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  bundles = ca.bundleSet()
})

// Fastify 4 (through the `fastify4` alias) runs the same tests at run time; types are Fastify 5's.
const versions = [
  ['5', Fastify],
  ['4', Fastify4 as unknown as typeof Fastify],
] as const

/** A pino destination that keeps every line, parsed. */
function logLines() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)))
      cb()
    },
  })
  return { lines, stream }
}

const token = (subject: string, claims: Record<string, unknown> = {}) =>
  ca.mintJwtSvid({ subject, audience: 'orders', claims })
const bearer = async (subject: string, claims?: Record<string, unknown>) => ({
  authorization: `Bearer ${await token(subject, claims)}`,
})

describe.each(versions)('@svidkit/fastify on Fastify %s (inject)', (major, createFastify) => {
  async function app(extra: Partial<SvidkitFastifyOptions> = {}) {
    const f = createFastify()
    await f.register(svidkit, { bundles, jwt: { audience: 'orders' }, audit: false, ...extra })
    let parsed = 0
    f.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      parsed++
      done(null, JSON.parse(String(body)))
    })
    f.get('/orders', (request) => ({ caller: request.caller?.spiffeId?.toString() ?? null }))
    f.post('/orders', (request) => ({ caller: request.caller?.spiffeId?.toString() }))
    f.get('/public', { config: { svid: { public: true } } }, (request) => ({
      caller: request.caller ?? null,
    }))
    f.get('/maybe', { config: { svid: { optional: true } } }, (request) => ({
      caller: request.caller?.spiffeId?.toString() ?? null,
    }))
    f.get(
      '/maybe-admin',
      { config: { svid: { optional: true, callers: ['spiffe://example.org/admin'] } } },
      (r) => ({
        caller: r.caller?.spiffeId?.toString() ?? null,
      }),
    )
    f.get('/admin', { config: { svid: { callers: ['spiffe://example.org/admin'] } } }, () => 'ok')
    f.get('/scoped', { preHandler: f.svid.require({ scopes: ['orders:write'] }) }, () => 'ok')
    f.get('/scoped-early', { onRequest: f.svid.require({ scopes: ['orders:write'] }) }, () => 'ok')
    return Object.assign(f, { parsedBodies: () => parsed })
  }

  test('the version under test', () => {
    expect(createFastify().version.split('.')[0]).toBe(major)
  })

  test('a JWT-SVID caller reaches the handler as request.caller', async () => {
    const f = await app()
    const r = await f.inject({ url: '/orders', headers: await bearer('/web') })
    expect(r.statusCode).toBe(200)
    expect(r.json()).toEqual({ caller: 'spiffe://example.org/web' })
  })

  test('401 with RFC 6750 challenge; the body of a refused request is never parsed', async () => {
    const f = await app()
    const r = await f.inject({ method: 'POST', url: '/orders', payload: { a: 1 } })
    expect(r.statusCode).toBe(401)
    expect(r.headers['www-authenticate']).toBe('Bearer realm="svidkit"')
    expect(r.json()).toEqual({
      statusCode: 401,
      error: 'unauthorized',
      code: 'ERR_CREDENTIALS_MISSING',
      message: expect.stringMatching(/^credentials: /),
    })
    expect(f.parsedBodies()).toBe(0)
  })

  test('invalid token: 401 invalid_token; malformed header: 400 invalid_request', async () => {
    const f = await app({ realm: 'orders' })
    const wrongAud = await ca.mintJwtSvid({ subject: '/web', audience: 'billing' })
    const r = await f.inject({ url: '/orders', headers: { authorization: `Bearer ${wrongAud}` } })
    expect(r.statusCode).toBe(401)
    expect(r.json()).toMatchObject({ code: 'ERR_JWT_SVID_AUDIENCE_MISMATCH', error: 'invalid_token' })
    expect(r.headers['www-authenticate']).toMatch(
      /^Bearer realm="orders", error="invalid_token", error_description="/,
    )
    const m = await f.inject({ url: '/orders', headers: { authorization: 'Bearer a b' } })
    expect(m.statusCode).toBe(400)
    expect(m.json()).toMatchObject({ code: 'ERR_CREDENTIALS_MALFORMED' })
    expect(m.headers['www-authenticate']).toContain('error="invalid_request"')
  })

  test('public and optional routes', async () => {
    const f = await app()
    expect((await f.inject({ url: '/public' })).json()).toEqual({ caller: null })
    // A public route does not even look at credentials.
    const pub = await f.inject({ url: '/public', headers: { authorization: 'Bearer x.y.z' } })
    expect(pub.statusCode).toBe(200)
    expect((await f.inject({ url: '/maybe' })).json()).toEqual({ caller: null })
    const maybe = await f.inject({ url: '/maybe', headers: await bearer('/web') })
    expect(maybe.json()).toEqual({ caller: 'spiffe://example.org/web' })
    const bad = await f.inject({ url: '/maybe', headers: { authorization: 'Bearer x.y.z' } })
    expect(bad.statusCode).toBe(401)
  })

  test('optional with a requirement: no caller passes, a caller must meet it', async () => {
    const f = await app()
    expect((await f.inject({ url: '/maybe-admin' })).json()).toEqual({ caller: null })
    const web = await f.inject({ url: '/maybe-admin', headers: await bearer('/web') })
    expect(web.statusCode).toBe(403)
    const admin = await f.inject({ url: '/maybe-admin', headers: await bearer('/admin') })
    expect(admin.json()).toEqual({ caller: 'spiffe://example.org/admin' })
  })

  test('route config requirement and svid.require hooks: 403 codes', async () => {
    const f = await app()
    const headers = await bearer('/web', { scope: 'orders:read' })
    const admin = await f.inject({ url: '/admin', headers })
    expect(admin.statusCode).toBe(403)
    expect(admin.json()).toMatchObject({ code: 'ERR_ACCESS_DENIED', error: 'forbidden' })
    expect(admin.headers['www-authenticate']).toBeUndefined()
    for (const url of ['/scoped', '/scoped-early']) {
      const scoped = await f.inject({ url, headers })
      expect(scoped.statusCode).toBe(403)
      expect(scoped.json()).toMatchObject({ code: 'ERR_SCOPE_MISSING', error: 'insufficient_scope' })
      expect(scoped.headers['www-authenticate']).toContain('error="insufficient_scope"')
      expect(scoped.headers['www-authenticate']).toContain('scope="orders:write"')
      const ok = await f.inject({ url, headers: await bearer('/web', { scope: 'orders:read orders:write' }) })
      expect(ok.statusCode).toBe(200)
    }
  })

  test('svid.require without an authenticated caller: 401', async () => {
    const f = await app({ defaultMode: 'optional' })
    const r = await f.inject({ url: '/scoped' })
    expect(r.statusCode).toBe(401)
    expect(r.json()).toMatchObject({ code: 'ERR_CREDENTIALS_MISSING' })
  })

  test('defaultMode none: routes opt in; a route with requirements needs a caller', async () => {
    const f = await app({ defaultMode: 'none' })
    expect((await f.inject({ url: '/orders' })).json()).toEqual({ caller: null })
    expect((await f.inject({ url: '/admin' })).statusCode).toBe(401)
  })

  test('unknown routes are refused before the 404 when authentication is required', async () => {
    const f = await app()
    expect((await f.inject({ url: '/nope' })).statusCode).toBe(401)
    expect((await f.inject({ url: '/nope', headers: await bearer('/web') })).statusCode).toBe(404)
  })

  test('a global policy authorizer decides after the route requirement', async () => {
    const policy = definePolicy({
      defaultAction: 'allow',
      rules: [{ id: 'no-legacy', action: 'DENY', from: [{ principals: ['spiffe://example.org/legacy'] }] }],
    })
    const f = await app({ authorizer: createPolicyAuthorizer(policy) })
    const r = await f.inject({ url: '/orders', headers: await bearer('/legacy') })
    expect(r.statusCode).toBe(403)
    expect(r.json()).toMatchObject({ code: 'ERR_ACCESS_DENIED' })
    expect(r.json().message).toContain('no-legacy')
    expect((await f.inject({ url: '/orders', headers: await bearer('/web') })).statusCode).toBe(200)
  })

  test('errorBody replaces the body only', async () => {
    const f = await app({ errorBody: (body, request) => ({ problem: body.code, path: request.url }) })
    const r = await f.inject({ url: '/orders' })
    expect(r.statusCode).toBe(401)
    expect(r.headers['www-authenticate']).toBe('Bearer realm="svidkit"')
    expect(r.json()).toEqual({ problem: 'ERR_CREDENTIALS_MISSING', path: '/orders' })
  })

  test('audit events go to fastify.log by default', async () => {
    const { lines, stream } = logLines()
    const f = createFastify({ logger: { level: 'info', stream } })
    await f.register(svidkit, { bundles, jwt: { audience: 'orders' } })
    f.get('/admin', { config: { svid: { callers: ['spiffe://example.org/admin'] } } }, () => 'ok')
    await f.inject({ url: '/admin', headers: await bearer('/admin') })
    await f.inject({ url: '/admin', headers: await bearer('/web') })
    await f.inject({ url: '/admin' })
    const audit = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('svidkit authorization'))
    expect(audit.map((l) => [l.msg, l.decision, l.code])).toEqual([
      ['svidkit authorization allow', 'allow', undefined],
      ['svidkit authorization deny', 'deny', undefined],
      ['svidkit authorization deny', 'deny', 'ERR_CREDENTIALS_MISSING'],
    ])
    // Audit events never carry the token.
    expect(JSON.stringify(audit)).not.toContain('eyJ')
  })

  test('a logger above info and warn gets no audit lines; a logger of one shared function does', async () => {
    const { lines, stream } = logLines()
    const quiet = createFastify({ logger: { level: 'error', stream } })
    await quiet.register(svidkit, { bundles, jwt: { audience: 'orders' } })
    quiet.get('/orders', { config: { svid: { callers: ['spiffe://example.org/web'] } } }, () => 'ok')
    expect((await quiet.inject({ url: '/orders', headers: await bearer('/web') })).statusCode).toBe(200)
    expect((await quiet.inject({ url: '/orders' })).statusCode).toBe(401)
    expect(lines).toEqual([])
    // One function for every level is a real logger, not Fastify's null logger.
    const seen: string[] = []
    const log = (_obj: unknown, msg?: string) => {
      if (typeof msg === 'string' && msg.startsWith('svidkit')) seen.push(msg)
    }
    const loggerInstance = {
      fatal: log,
      error: log,
      warn: log,
      info: log,
      debug: log,
      trace: log,
      level: 'info',
    }
    const instance = Object.assign(loggerInstance, { child: () => loggerInstance }) as never
    // Fastify 5 takes an instance as `loggerInstance`, Fastify 4 as `logger`.
    const custom = createFastify(major === '5' ? { loggerInstance: instance } : { logger: instance })
    await custom.register(svidkit, { bundles, jwt: { audience: 'orders' } })
    custom.get('/orders', { config: { svid: { callers: ['spiffe://example.org/web'] } } }, () => 'ok')
    await custom.inject({ url: '/orders', headers: await bearer('/web') })
    expect(seen).toEqual(['svidkit authorization allow'])
    // Fastify's own logger for `logger: false` drops everything: requests work, nothing is built for it.
    const none = createFastify({ logger: false })
    await none.register(svidkit, { bundles, jwt: { audience: 'orders' } })
    none.get('/orders', () => 'ok')
    expect((await none.inject({ url: '/orders', headers: await bearer('/web') })).statusCode).toBe(200)
  })

  test('a prebuilt verifier and a custom decorator name', async () => {
    const verifier = createCallerVerifier({ bundles, jwt: { audience: 'orders' }, audit: false })
    const f = createFastify()
    await f.register(svidkit, { verifier, decoratorName: 'workload' })
    f.get('/', (request) => {
      const r = request as unknown as Record<string, { spiffeId?: { toString(): string } } | undefined>
      return { workload: r.workload?.spiffeId?.toString(), caller: 'caller' in request }
    })
    expect(f.svid.verifier).toBe(verifier)
    const r = await f.inject({ url: '/', headers: await bearer('/web') })
    expect(r.json()).toEqual({ workload: 'spiffe://example.org/web', caller: false })
  })

  test('routes registered before the plugin keep their config.svid', async () => {
    const f = createFastify()
    f.get('/early-public', { config: { svid: { public: true } } }, () => 'ok')
    f.get('/early-admin', { config: { svid: { callers: ['spiffe://example.org/admin'] } } }, () => 'ok')
    await f.register(svidkit, { bundles, jwt: { audience: 'orders' }, audit: false })
    expect((await f.inject({ url: '/early-public' })).statusCode).toBe(200)
    expect((await f.inject({ url: '/early-admin', headers: await bearer('/web') })).statusCode).toBe(403)
  })

  test('request.caller is read-only', async () => {
    const f = createFastify()
    await f.register(svidkit, { bundles, jwt: { audience: 'orders' }, audit: false })
    f.get('/', (request) => {
      expect(() => {
        ;(request as unknown as { caller: unknown }).caller = 'forged'
      }).toThrow(TypeError)
      return { caller: request.caller?.spiffeId?.toString() }
    })
    expect((await f.inject({ url: '/', headers: await bearer('/web') })).json()).toEqual({
      caller: 'spiffe://example.org/web',
    })
  })

  test('options are validated when the plugin is registered', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ bundles, defaultMode: 'sometimes' }, /defaultMode/],
      [{ bundles, decoratorName: '' }, /decoratorName/],
      [{ bundles, errorBody: 'x' }, /errorBody/],
      [{ bundles, realm: 7 }, /realm/],
      [{ bundles: {} }, /bundles/],
      [{ bundles, channels: ['jwt'] }, /channel "jwt"/],
      [{ verifier: {} }, /verifier/],
      [{ verifier: createCallerVerifier({ bundles, audit: false }), bundles }, /either/],
    ]
    for (const [options, message] of cases) {
      const f = createFastify()
      await expect(
        f.register(svidkit, options as unknown as SvidkitFastifyOptions).ready(),
      ).rejects.toMatchObject({ code: 'ERR_OPTIONS_INVALID', message })
    }
  })

  test('route requirements are validated when the route is registered', async () => {
    const bad: Record<string, unknown>[] = [
      { callerz: ['spiffe://example.org/web'] },
      { public: true, scopes: ['a'] },
      { public: true, optional: true },
      { public: 'yes' },
      { scopes: 'orders:read' },
    ]
    for (const svid of bad) {
      const f = createFastify()
      await f.register(svidkit, { bundles, jwt: { audience: 'orders' }, audit: false })
      expect(() => f.get('/', { config: { svid } as never }, () => 'ok')).toThrow(
        expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
      )
    }
    const f = createFastify()
    await f.register(svidkit, { bundles, audit: false })
    expect(() => f.svid.require({ boundary: { tenant: { sameAs: 'me' } } } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})
