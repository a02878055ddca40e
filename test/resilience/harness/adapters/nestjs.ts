import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Server as TlsServer } from 'node:tls'
import { Controller, Get, Module, type NestApplicationOptions, Req, type Type } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import type { Caller as SvidCaller } from '@svidkit/core/caller'
import { Caller, Public, SvidkitModule } from '@svidkit/nestjs'
import express from 'express'
import { httpsCall, httpsCallRaw } from '../https-call.js'
import type { ResilienceAdapter, ServiceConfig } from '../service.js'

/**
 * One controller, decorated as TypeScript's decorator output would decorate
 * `@Controller() class { @Get('whoami') whoami(@Caller() caller, @Req() req) … @Public() @Get('healthz') … }`.
 */
function controllerFor(config: ServiceConfig, arrival: WeakMap<object, number>): Type {
  class ResilienceController {
    whoami(caller: SvidCaller | undefined, req: object): unknown {
      return config.respond('whoami', caller, arrival.get(req)!)
    }
    healthz(caller: SvidCaller | undefined, req: object): unknown {
      return config.respond('healthz', caller, arrival.get(req)!)
    }
  }
  const proto = ResilienceController.prototype
  for (const [name, decorators] of [
    ['whoami', [Get('whoami')]],
    ['healthz', [Get('healthz'), Public()]],
  ] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)!
    Caller()(proto, name, 0)
    Req()(proto, name, 1)
    for (const decorate of [...decorators].reverse()) decorate(proto, name, descriptor)
    Object.defineProperty(proto, name, descriptor)
  }
  Controller()(ResilienceController)
  return ResilienceController
}

/**
 * `@svidkit/nestjs` (`SvidkitModule.forRoot` with core's verifier options, its global guard) on Nest's
 * Express platform over HTTPS; Nest's own logger off.
 */
export const nestjsAdapter: ResilienceAdapter = {
  name: 'nestjs',
  transport: 'http',
  async start(config) {
    const instance = express()
    const arrival = new WeakMap<object, number>()
    // First in the chain: when the request arrived, before svidkit's guard verified it.
    instance.use((req, _res, next) => {
      arrival.set(req, Date.now())
      next()
    })
    class AppModule {}
    Module({
      imports: [SvidkitModule.forRoot(config.verifier)],
      controllers: [controllerFor(config, arrival)],
    })(AppModule)
    const app = await NestFactory.create(AppModule, new ExpressAdapter(instance), {
      httpsOptions: {
        ...config.tls.options,
        ...(config.maxHeaderSize === undefined ? {} : { maxHeaderSize: config.maxHeaderSize }),
      } as NestApplicationOptions['httpsOptions'],
      logger: false,
    })
    const server = app.getHttpServer() as HttpsServer
    config.tls.attach(server as unknown as TlsServer)
    await app.listen(0, config.host)
    const { port } = server.address() as AddressInfo
    return {
      url: `https://${config.host}:${port}`,
      close: async () => {
        server.closeAllConnections()
        await app.close()
      },
    }
  },
  call: httpsCall,
  callRaw: httpsCallRaw,
}
