// SvidkitGuard on both HTTP platforms, over real HTTPS sockets: what the decorators ask for (nearest
// first), refusals from core's status table with WWW-Authenticate, the error body hook, and a caller
// no header can set.
import { Controller, Delete, Get, Module, Param, Post, Req } from '@nestjs/common'
import type { CallerVerifierOptions } from '@svidkit/core/caller'
import {
  Caller,
  OptionalCaller,
  Public,
  RequireCaller,
  RequireScopes,
  SvidkitModule,
  type SvidkitModuleOptions,
} from '@svidkit/nestjs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  ADMIN,
  AUDIENCE,
  BATCH,
  createPki,
  type HttpResult,
  type Pki,
  PLATFORMS,
  SELF,
  send,
  startHttp,
  WEB,
} from './helpers.js'

const who = (caller: Caller | undefined) =>
  caller === undefined
    ? null
    : caller.channel === 'oidc'
      ? caller.principal.sub
      : `${caller.spiffeId.toString()} via ${caller.channel}`

@RequireCaller({ callers: ['spiffe://example.org/ns/shop/sa/*'] })
@Controller('orders')
class OrdersController {
  @Get()
  list(@Caller() caller: Caller) {
    return { caller: who(caller) }
  }

  @RequireScopes('orders:write')
  @Post()
  create(@Caller() caller: Caller) {
    return { caller: who(caller) }
  }

  @RequireCaller({ callers: [ADMIN] })
  @Delete(':id')
  remove(@Param('id') id: string, @Caller() caller: Caller) {
    return { id, caller: who(caller) }
  }

  @Public()
  @Get('health')
  health(@Caller() caller: Caller | undefined) {
    return { caller: who(caller) }
  }

  @OptionalCaller()
  @Get('catalog')
  catalog(@Caller() caller: Caller | undefined) {
    return { caller: who(caller) }
  }

  @RequireCaller({
    callers: ['spiffe://example.org/ns/{*}/sa/{*}'],
    boundary: { namespace: { sameAs: 'self' } },
  })
  @Get('mine/:id')
  mine(@Caller() caller: Caller) {
    return { caller: who(caller) }
  }
}

@Public()
@Controller('open')
class OpenController {
  @Get()
  index(@Caller() caller: Caller | undefined, @Req() req: { headers: Record<string, unknown> }) {
    return { caller: who(caller), sawHeader: req.headers.caller ?? null }
  }

  @RequireScopes('admin:read')
  @Get('secret')
  secret(@Caller() caller: Caller) {
    return { caller: who(caller) }
  }
}

@Controller('plain')
class PlainController {
  @Get()
  whoami(@Caller() caller: Caller) {
    return { caller: who(caller) }
  }
}

let pki: Pki
beforeAll(async () => {
  pki = await createPki()
})

const verifierOptions = (): CallerVerifierOptions => ({
  bundles: pki.ca.bundleSet(),
  self: SELF,
  jwt: { audience: AUDIENCE },
  identityTemplates: ['/ns/{namespace}/sa/{serviceAccount}'],
  audit: false,
})

function appModule(extra: Partial<SvidkitModuleOptions> = {}) {
  @Module({
    imports: [SvidkitModule.forRoot({ ...verifierOptions(), realm: 'orders', ...extra })],
    controllers: [OrdersController, OpenController, PlainController],
  })
  class AppModule {}
  return AppModule
}

const bearer = async (subject: string, claims?: Record<string, unknown>) => ({
  authorization: `Bearer ${await pki.token(subject, claims)}`,
})
const outcome = (r: HttpResult) => ({
  status: r.status,
  ...(r.status >= 400 ? { code: (r.body as { code?: string }).code } : { body: r.body }),
})

describe.each(PLATFORMS)('SvidkitGuard on Nest with %s', (platform) => {
  let server: Awaited<ReturnType<typeof startHttp>>
  beforeAll(async () => {
    server = await startHttp(platform, appModule(), pki)
  })
  afterAll(async () => {
    await server?.close()
  })
  const get = (path: string, options: Parameters<typeof send>[3] = {}) => send(pki, server.url, path, options)

  test('a controller requirement applies to its handlers (mTLS and JWT-SVID callers)', async () => {
    expect(outcome(await get('/orders', { certificate: pki.web }))).toEqual({
      status: 200,
      body: { caller: `${WEB} via mtls` },
    })
    expect(outcome(await get('/orders', { headers: await bearer(WEB) }))).toEqual({
      status: 200,
      body: { caller: `${WEB} via jwt` },
    })
    const denied = await get('/orders', { certificate: pki.batch })
    expect(outcome(denied)).toEqual({ status: 403, code: 'ERR_ACCESS_DENIED' })
    // The deciding requirement is named after its handler.
    expect((denied.body as { message: string }).message).toContain('OrdersController.list')
    expect(denied.headers['www-authenticate']).toBeUndefined()
  })

  test('401 without credentials, with WWW-Authenticate in the configured realm and the JSON body', async () => {
    const res = await get('/orders')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"')
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.body).toEqual({
      statusCode: 401,
      error: 'unauthorized',
      code: 'ERR_CREDENTIALS_MISSING',
      message: expect.any(String),
    })
    const bad = await get('/orders', { headers: { authorization: 'Bearer not-a-jwt' } })
    expect(outcome(bad)).toEqual({ status: 401, code: 'ERR_JWT_SVID_MALFORMED' })
    expect(bad.headers['www-authenticate']).toMatch(/^Bearer realm="orders", error="invalid_token"/)
  })

  test('@RequireScopes on a handler adds to the controller requirement (403 insufficient_scope)', async () => {
    const missing = await get('/orders', { method: 'POST', headers: await bearer(WEB) })
    expect(outcome(missing)).toEqual({ status: 403, code: 'ERR_SCOPE_MISSING' })
    expect(missing.headers['www-authenticate']).toMatch(/error="insufficient_scope".*scope="orders:write"$/)
    expect(
      outcome(
        await get('/orders', { method: 'POST', headers: await bearer(WEB, { scope: 'orders:write' }) }),
      ),
    ).toEqual({ status: 201, body: { caller: `${WEB} via jwt` } })
    // The scope does not replace the controller's callers.
    expect(
      outcome(
        await get('/orders', { method: 'POST', headers: await bearer(BATCH, { scope: 'orders:write' }) }),
      ),
    ).toEqual({ status: 403, code: 'ERR_ACCESS_DENIED' })
  })

  test("a handler's @RequireCaller replaces its controller's", async () => {
    expect(outcome(await get('/orders/7', { method: 'DELETE', certificate: pki.web }))).toEqual({
      status: 403,
      code: 'ERR_ACCESS_DENIED',
    })
    expect(outcome(await get('/orders/7', { method: 'DELETE', certificate: pki.admin }))).toEqual({
      status: 200,
      body: { id: '7', caller: `${ADMIN} via mtls` },
    })
  })

  test('@Public() on a handler beats the controller requirement; credentials are not even read', async () => {
    expect(outcome(await get('/orders/health'))).toEqual({ status: 200, body: { caller: null } })
    expect(outcome(await get('/orders/health', { headers: { authorization: 'Bearer not-a-jwt' } }))).toEqual({
      status: 200,
      body: { caller: null },
    })
  })

  test('@OptionalCaller(): anonymous passes, a caller must still meet the controller requirement', async () => {
    expect(outcome(await get('/orders/catalog'))).toEqual({ status: 200, body: { caller: null } })
    expect(outcome(await get('/orders/catalog', { certificate: pki.web }))).toEqual({
      status: 200,
      body: { caller: `${WEB} via mtls` },
    })
    expect(outcome(await get('/orders/catalog', { certificate: pki.batch }))).toEqual({
      status: 403,
      code: 'ERR_ACCESS_DENIED',
    })
    expect(outcome(await get('/orders/catalog', { headers: { authorization: 'Bearer x.y.z' } }))).toEqual({
      status: 401,
      code: 'ERR_JWT_SVID_MALFORMED',
    })
  })

  test('boundary conditions over identity-template captures', async () => {
    expect(outcome(await get('/orders/mine/1', { certificate: pki.web }))).toMatchObject({ status: 200 })
    expect(outcome(await get('/orders/mine/1', { certificate: pki.batch }))).toEqual({
      status: 403,
      code: 'ERR_ACCESS_DENIED',
    })
  })

  test("a public controller; a handler's own requirement needs a caller again", async () => {
    expect(outcome(await get('/open'))).toEqual({ status: 200, body: { caller: null, sawHeader: null } })
    expect(outcome(await get('/open/secret'))).toEqual({ status: 401, code: 'ERR_CREDENTIALS_MISSING' })
    expect(
      outcome(await get('/open/secret', { headers: await bearer(ADMIN, { scope: 'admin:read' }) })),
    ).toEqual({
      status: 200,
      body: { caller: `${ADMIN} via jwt` },
    })
  })

  test('handlers without decorators need a caller (defaultMode required)', async () => {
    expect(outcome(await get('/plain'))).toEqual({ status: 401, code: 'ERR_CREDENTIALS_MISSING' })
    expect(outcome(await get('/plain', { certificate: pki.batch }))).toEqual({
      status: 200,
      body: { caller: `${BATCH} via mtls` },
    })
  })

  test('no header can set the caller @Caller() reads', async () => {
    const forged = {
      caller: WEB,
      'x-caller': WEB,
      'x-svidkit-caller': WEB,
      'x-forwarded-client-cert': `URI=${WEB}`,
      'x-spiffe-id': WEB,
    }
    const res = await get('/open', { headers: forged })
    expect(res.body).toEqual({ caller: null, sawHeader: WEB })
    // On a guarded route the same headers are no credentials (XFCC is not configured here).
    expect(outcome(await get('/plain', { headers: forged }))).toEqual({
      status: 401,
      code: 'ERR_CREDENTIALS_MISSING',
    })
  })
})

describe.each(PLATFORMS)('errorBody and defaultMode on Nest with %s', (platform) => {
  test('errorBody replaces the body; status and WWW-Authenticate stay from the status table', async () => {
    const server = await startHttp(
      platform,
      appModule({
        errorBody: (body, request) => ({
          problem: body.code,
          status: body.statusCode,
          url: (request as { url?: string }).url,
        }),
      }),
      pki,
    )
    try {
      const res = await send(pki, server.url, '/plain?x=1')
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"')
      expect(res.body).toEqual({ problem: 'ERR_CREDENTIALS_MISSING', status: 401, url: '/plain?x=1' })
    } finally {
      await server.close()
    }
  })

  test('defaultMode optional: undecorated handlers take anonymous callers, requirements still apply', async () => {
    const server = await startHttp(platform, appModule({ defaultMode: 'optional' }), pki)
    try {
      expect(outcome(await send(pki, server.url, '/plain'))).toEqual({ status: 200, body: { caller: null } })
      expect(outcome(await send(pki, server.url, '/orders'))).toEqual({
        status: 401,
        code: 'ERR_CREDENTIALS_MISSING',
      })
    } finally {
      await server.close()
    }
  })
})

describe('GraphQL resolver contexts', () => {
  // A resolver context as @nestjs/graphql builds it (type `graphql`, args `[root, args, { req, res }, info]`),
  // around a real HTTPS request: the guard reads `getArgByIndex(2).req`, without @nestjs/graphql.
  class OrdersResolver {
    @RequireScopes('orders:read')
    orders() {
      return []
    }
  }
  const contextOf = (req: unknown, res: unknown) => {
    const args = [{}, {}, { req, res }, {}]
    return {
      getType: () => 'graphql',
      getArgs: () => args,
      getArgByIndex: (i: number) => args[i],
      getHandler: () => OrdersResolver.prototype.orders,
      getClass: () => OrdersResolver,
      switchToHttp: () => {
        throw new Error('not an HTTP context')
      },
      switchToRpc: () => {
        throw new Error('not an RPC context')
      },
      switchToWs: () => {
        throw new Error('not a WS context')
      },
    }
  }

  test('the HTTP request of the resolver context: a caller, a refusal with its challenge', async () => {
    const { NestFactory } = await import('@nestjs/core')
    const { createServer } = await import('node:https')
    const { httpsOptions, HOST } = await import('./helpers.js')
    const { SvidkitGuard, callerOf } = await import('@svidkit/nestjs')
    @Module({ imports: [SvidkitModule.forRoot({ ...verifierOptions(), realm: 'graphql' })] })
    class GqlModule {}
    const app = await NestFactory.createApplicationContext(GqlModule, { logger: false })
    const guard = app.get(SvidkitGuard)
    const server = createServer(httpsOptions(pki), async (req, res) => {
      const context = contextOf(req, res) as never
      try {
        const allowed = await guard.canActivate(context)
        res.end(JSON.stringify({ allowed, caller: who(callerOf(context)) }))
      } catch (err) {
        const e = err as { getStatus(): number; getResponse(): unknown }
        res.end(JSON.stringify({ status: e.getStatus(), body: e.getResponse() }))
      }
    })
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
    const url = `https://${HOST}:${(server.address() as { port: number }).port}`
    try {
      expect(
        (await send(pki, url, '/graphql', { headers: await bearer(WEB, { scope: 'orders:read' }) })).body,
      ).toEqual({
        allowed: true,
        caller: `${WEB} via jwt`,
      })
      const refused = await send(pki, url, '/graphql', { headers: await bearer(WEB) })
      expect(refused.body).toMatchObject({ status: 403, body: { code: 'ERR_SCOPE_MISSING' } })
      expect(refused.headers['www-authenticate']).toMatch(
        /^Bearer realm="graphql", error="insufficient_scope"/,
      )
      expect((await send(pki, url, '/graphql')).body).toMatchObject({
        status: 401,
        body: { code: 'ERR_CREDENTIALS_MISSING' },
      })
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await app.close()
    }
  })
})
