// SvidkitModule: forRoot / forRootAsync (useFactory, useClass, useExisting), the injectable verifier
// and source, the global guard or @UseGuards, one source per application closed at shutdown (also
// opened from a real Workload API), and mistakes that fail the start instead of a request.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Controller, Get, Inject, Injectable, Module, UseGuards } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import type { CallerVerifier } from '@svidkit/core/caller'
import { StaticSource } from '@svidkit/core/source'
import {
  Caller,
  Public,
  RequireCaller,
  RequireScopes,
  SVIDKIT_MODULE_OPTIONS,
  SVIDKIT_VERIFIER,
  SVIDKIT_X509_SOURCE,
  SvidkitGuard,
  SvidkitModule,
  type SvidkitModuleOptions,
} from '@svidkit/nestjs'
import { DevAgent } from '@svidkit/testing'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { AUDIENCE, createPki, type Pki, SELF, send, startHttp, WEB } from './helpers.js'

let pki: Pki
beforeAll(async () => {
  pki = await createPki()
})

@Controller()
class WhoController {
  @Get('who')
  who(@Caller() caller: Caller | undefined) {
    return { caller: caller?.spiffeId?.toString() ?? null }
  }
}

@UseGuards(SvidkitGuard)
@Controller('guarded')
class GuardedController {
  @Get()
  who(@Caller() caller: Caller | undefined) {
    return { caller: caller?.spiffeId?.toString() ?? null }
  }
}

const moduleOf = (svidkit: ReturnType<typeof SvidkitModule.forRoot>, controllers = [WhoController]) => {
  @Module({ imports: [svidkit], controllers })
  class AppModule {}
  return AppModule
}

async function who(module: ReturnType<typeof moduleOf>, path = '/who') {
  const server = await startHttp('express', module, pki)
  try {
    const anonymous = await send(pki, server.url, path)
    const web = await send(pki, server.url, path, { certificate: pki.web })
    return { anonymous: anonymous.status, web: [web.status, web.body], app: server.app }
  } finally {
    await server.close()
  }
}

describe('forRoot', () => {
  test('a ready source stands in for bundles and self; it is injectable and closed at shutdown', async () => {
    const source = new StaticSource({ svid: pki.server, bundles: pki.ca.bundleSet() })
    const close = vi.spyOn(source, 'close')
    const server = await startHttp('express', moduleOf(SvidkitModule.forRoot({ source, audit: false })), pki)
    try {
      expect(server.app.get(SVIDKIT_X509_SOURCE)).toBe(source)
      const verifier = server.app.get<CallerVerifier>(SVIDKIT_VERIFIER)
      expect(verifier.channels).toEqual(['mtls'])
      expect(verifier.self()?.toString()).toBe(SELF)
      expect((await send(pki, server.url, '/who', { certificate: pki.web })).body).toEqual({ caller: WEB })
      expect(close).not.toHaveBeenCalled()
    } finally {
      await server.close()
    }
    expect(close).toHaveBeenCalledTimes(1)
  })

  test('without a source, SVIDKIT_X509_SOURCE is null and the options are injectable', async () => {
    const options: SvidkitModuleOptions = { bundles: pki.ca.bundleSet(), audit: false, realm: 'orders' }
    const server = await startHttp('express', moduleOf(SvidkitModule.forRoot(options)), pki)
    try {
      expect(server.app.get(SVIDKIT_X509_SOURCE)).toBeNull()
      expect(server.app.get(SVIDKIT_MODULE_OPTIONS)).toEqual(options)
    } finally {
      await server.close()
    }
  })

  test('a ready verifier is used as it is', async () => {
    const first = await startHttp(
      'express',
      moduleOf(SvidkitModule.forRoot({ bundles: pki.ca.bundleSet(), audit: false })),
      pki,
    )
    const verifier = first.app.get<CallerVerifier>(SVIDKIT_VERIFIER)
    await first.close()
    const second = await startHttp('express', moduleOf(SvidkitModule.forRoot({ verifier })), pki)
    try {
      expect(second.app.get(SVIDKIT_VERIFIER)).toBe(verifier)
    } finally {
      await second.close()
    }
  })

  test('globalGuard: false leaves handlers alone unless they use @UseGuards(SvidkitGuard)', async () => {
    const module = moduleOf(
      SvidkitModule.forRoot({ bundles: pki.ca.bundleSet(), audit: false, globalGuard: false }),
      [WhoController, GuardedController],
    )
    const server = await startHttp('express', module, pki)
    try {
      expect((await send(pki, server.url, '/who')).status).toBe(200)
      expect((await send(pki, server.url, '/guarded')).status).toBe(401)
      expect((await send(pki, server.url, '/guarded', { certificate: pki.web })).body).toEqual({
        caller: WEB,
      })
    } finally {
      await server.close()
    }
  })

  test('the global guard by default', async () => {
    const result = await who(moduleOf(SvidkitModule.forRoot({ bundles: pki.ca.bundleSet(), audit: false })))
    expect({ anonymous: result.anonymous, web: result.web }).toEqual({
      anonymous: 401,
      web: [200, { caller: WEB }],
    })
  })
})

describe('forRootAsync', () => {
  const CONFIG = Symbol('config')
  @Module({ providers: [{ provide: CONFIG, useFactory: () => ({ audience: AUDIENCE }) }], exports: [CONFIG] })
  class ConfigModule {}

  test('useFactory with imports and inject', async () => {
    const svidkit = SvidkitModule.forRootAsync({
      imports: [ConfigModule],
      inject: [CONFIG],
      useFactory: async (config: { audience: string }) => ({
        bundles: pki.ca.bundleSet(),
        jwt: { audience: config.audience },
        audit: false as const,
      }),
    })
    const server = await startHttp('express', moduleOf(svidkit), pki)
    try {
      const token = await pki.token(WEB)
      const res = await send(pki, server.url, '/who', { headers: { authorization: `Bearer ${token}` } })
      expect(res.body).toEqual({ caller: WEB })
      expect(server.app.get<CallerVerifier>(SVIDKIT_VERIFIER).channels).toEqual(['mtls', 'jwt'])
    } finally {
      await server.close()
    }
  })

  test('useClass and useExisting', async () => {
    @Injectable()
    class SvidkitConfig {
      create(): SvidkitModuleOptions {
        return { bundles: pki.ca.bundleSet(), audit: false }
      }
    }
    @Module({ providers: [SvidkitConfig], exports: [SvidkitConfig] })
    class SvidkitConfigModule {}

    for (const svidkit of [
      SvidkitModule.forRootAsync({ useClass: SvidkitConfig }),
      SvidkitModule.forRootAsync({ imports: [SvidkitConfigModule], useExisting: SvidkitConfig }),
    ]) {
      const result = await who(moduleOf(svidkit))
      expect({ anonymous: result.anonymous, web: result.web }).toEqual({
        anonymous: 401,
        web: [200, { caller: WEB }],
      })
    }
  })

  test('globalGuard: false through forRootAsync', async () => {
    const result = await who(
      moduleOf(
        SvidkitModule.forRootAsync({
          globalGuard: false,
          useFactory: () => ({ bundles: pki.ca.bundleSet(), audit: false as const }),
        }),
      ),
    )
    expect(result.anonymous).toBe(200)
  })
})

describe('source: the Workload API', () => {
  let dir: string
  let agent: DevAgent
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'svidkit-nest-'))
    agent = await DevAgent.start({
      ca: pki.ca,
      sockets: [{ name: 'orders', socketPath: join(dir, 'orders.sock'), identities: [{ spiffeId: SELF }] }],
    })
  })
  afterAll(async () => {
    await agent?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('opens one X509Source, uses it for bundles and self, and closes it at shutdown', async () => {
    const address = agent.sockets[0]!.address
    const server = await startHttp(
      'express',
      moduleOf(SvidkitModule.forRoot({ source: { address, timeoutMs: 10_000 }, audit: false })),
      pki,
    )
    let source: { healthy: boolean; getX509Svid(): { id: { toString(): string } } }
    try {
      source = server.app.get(SVIDKIT_X509_SOURCE)
      expect(source.getX509Svid().id.toString()).toBe(SELF)
      expect(source.healthy).toBe(true)
      expect((await send(pki, server.url, '/who', { certificate: pki.web })).body).toEqual({ caller: WEB })
    } finally {
      await server.close()
    }
    expect(source.healthy).toBe(false)
  })
})

describe('mistakes fail the start, not a request', () => {
  const start = async (module: ReturnType<typeof moduleOf>) => {
    const app = await NestFactory.create(module, { logger: false, abortOnError: false })
    try {
      await app.init()
    } finally {
      await app.close()
    }
  }
  const base = () => SvidkitModule.forRoot({ bundles: pki.ca.bundleSet(), audit: false })

  test('@Public() and a requirement on the same handler', async () => {
    @Controller()
    class Both {
      @Public()
      @RequireScopes('a')
      @Get()
      both() {}
    }
    await expect(start(moduleOf(base(), [Both]))).rejects.toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
      message: expect.stringContaining(
        'Both.both: @Public() and @RequireCaller()/@RequireScopes() on the same handler',
      ),
    })
  })

  test('a boundary key the identity templates do not capture', async () => {
    @Controller()
    class Tenant {
      @RequireCaller({ boundary: { tenant: { sameAs: 'self' } } })
      @Get()
      get() {}
    }
    await expect(start(moduleOf(base(), [Tenant]))).rejects.toMatchObject({ code: 'ERR_OPTIONS_INVALID' })
  })

  test('options without bundles, source or verifier; bad Nest options', async () => {
    for (const options of [
      { audit: false },
      { bundles: pki.ca.bundleSet(), defaultMode: 'sometimes' },
      { bundles: pki.ca.bundleSet(), realm: 42 },
      { bundles: pki.ca.bundleSet(), errorBody: 'json' },
      { bundles: pki.ca.bundleSet(), source: 'workload-api' },
      { bundles: pki.ca.bundleSet(), verifier: {} },
    ]) {
      await expect(
        start(moduleOf(SvidkitModule.forRoot(options as unknown as SvidkitModuleOptions))),
        JSON.stringify(options),
      ).rejects.toMatchObject({
        code: 'ERR_OPTIONS_INVALID',
        message: expect.stringContaining('@svidkit/nestjs: '),
      })
    }
  })

  test('decorators check their arguments when the class is declared', () => {
    expect(() => RequireCaller({})).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
    expect(() => RequireCaller({ public: true })).toThrow(/use @Public\(\) or @OptionalCaller\(\)/)
    expect(() => RequireCaller({ scopes: 'orders:read' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => RequireCaller({ callers: ['not a spiffe id'] })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => RequireScopes()).toThrow(/one or more scope names/)
    expect(() => RequireScopes('two words')).toThrow(/one or more scope names/)
  })
})

test('the guard is an injectable provider that other providers can use', async () => {
  @Injectable()
  class UsesGuard {
    constructor(@Inject(SvidkitGuard) readonly guard: SvidkitGuard) {}
  }
  @Module({
    imports: [SvidkitModule.forRoot({ bundles: pki.ca.bundleSet(), audit: false })],
    providers: [UsesGuard],
  })
  class AppModule {}
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false })
  try {
    expect(app.get(UsesGuard).guard).toBeInstanceOf(SvidkitGuard)
  } finally {
    await app.close()
  }
})
