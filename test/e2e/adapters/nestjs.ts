// @svidkit/nestjs under the shared tables: a real Nest application (the @nestjs/* this process
// resolves: Nest 12, or 11 in the vitest project nest-11) on Express, on Fastify, and as a gRPC
// microservice on SvidGrpcServer. Controllers are built per server config, their decorators applied
// exactly as TypeScript's decorator output applies them.

import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import {
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  type INestMicroservice,
  Module,
  type NestApplicationOptions,
  Param,
  Post,
  Req,
  type Type,
} from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { GrpcMethod, type MicroserviceOptions } from '@nestjs/microservices'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import type { CallerVerifierOptions } from '@svidkit/core/caller'
import { StaticSource } from '@svidkit/core/source'
import { Caller, OptionalCaller, Public, RequireCaller, SvidkitModule } from '@svidkit/nestjs'
import { SvidGrpcServer } from '@svidkit/nestjs/grpc'
import express from 'express'
import { callerView, type E2eAdapter, type E2eRoute, tlsServerOptions } from '../harness/adapter.js'
import { grpcClient, grpcMethodOf, jsonUnaryMethod } from '../harness/grpc-client.js'
import type { RoutingAdapter, RoutingRoute, RoutingServerConfig } from '../harness/routing-table.js'
import { GRPC_POLICY } from './grpc.js'

export type NestPlatform = 'express' | 'fastify'

type Decorator = MethodDecorator | ((target: object, key: string | symbol, index: number) => void)

/** One handler of a generated controller: its method decorators, its parameter decorators, its body. */
interface HandlerSpec {
  readonly decorators: readonly MethodDecorator[]
  readonly params: readonly ParameterDecorator[]
  readonly body: (...args: never[]) => unknown
}

/** A controller class with one method per handler, decorated as `@Decorator() method(@Param() …)` would be. */
function controllerOf(handlers: readonly HandlerSpec[], classDecorators: readonly ClassDecorator[]): Type {
  class RoutesController {}
  const proto = RoutesController.prototype as unknown as Record<string, unknown>
  handlers.forEach((handler, i) => {
    const name = `handler${i}`
    proto[name] = handler.body
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)!
    handler.params.forEach((decorate, index) => {
      ;(decorate as Decorator as (t: object, k: string, i: number) => void)(proto, name, index)
    })
    for (const decorate of [...handler.decorators].reverse()) decorate(proto, name, descriptor)
    Object.defineProperty(proto, name, descriptor)
  })
  for (const decorate of classDecorators) decorate(RoutesController)
  return RoutesController
}

function appModuleOf(verifier: CallerVerifierOptions, controller: Type): Type {
  class AppModule {}
  Module({ imports: [SvidkitModule.forRoot(verifier)], controllers: [controller] })(AppModule)
  return AppModule
}

/** The access decorators of a table route. */
function accessDecorators(route: E2eRoute): MethodDecorator[] {
  const access = route.access
  if (access.kind === 'public') return [Public()]
  const requirement = access.requirement ? [RequireCaller(access.requirement)] : []
  return access.kind === 'optional' ? [OptionalCaller(), ...requirement] : requirement
}

async function listen(
  platform: NestPlatform,
  module: Type,
  tls: RoutingServerConfig['tls'],
  router = 'default',
): Promise<{ url: string; close(): Promise<void> }> {
  let app: INestApplication
  if (platform === 'express') {
    const instance = express()
    if (router === 'strict') {
      instance.set('case sensitive routing', true)
      instance.set('strict routing', true)
    }
    app = await NestFactory.create(module, new ExpressAdapter(instance), {
      httpsOptions: tlsServerOptions(tls) as NestApplicationOptions['httpsOptions'],
      logger: false,
    })
  } else {
    const loose = {
      caseSensitive: false,
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: true,
      useSemicolonDelimiter: true,
    }
    const routerOptions =
      router === 'loose' ? loose : router === 'loose-router-options' ? { routerOptions: loose } : {}
    app = await NestFactory.create(
      module,
      new FastifyAdapter({ https: tlsServerOptions(tls), ...routerOptions } as ConstructorParameters<
        typeof FastifyAdapter
      >[0]),
      { logger: false },
    )
  }
  await app.listen(0, '127.0.0.1')
  const server = app.getHttpServer() as HttpsServer
  const { port } = server.address() as AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      await app.close()
    },
  }
}

/** `@svidkit/nestjs` on an HTTPS Nest application (Express or Fastify), its global guard on every route. */
export function nestAdapter(name: string, platform: NestPlatform): E2eAdapter {
  return {
    name,
    async start(config) {
      const controller = controllerOf(
        config.routes.map((route) => ({
          decorators: [Get(route.path), ...accessDecorators(route)],
          params: [Caller()],
          body: (caller: Caller | undefined) => ({ caller: callerView(caller) }),
        })),
        [Controller()],
      )
      return listen(platform, appModuleOf(config.verifier, controller), config.tls)
    },
  }
}

/**
 * `@svidkit/nestjs` as a gRPC microservice on `SvidGrpcServer` (the SVID listener of `@svidkit/grpc`,
 * client certificate requested, so every scenario reaches the guard): each table route is a unary
 * method of `svidkit.e2e.Routes` (`/whoami` → `Whoami`), JSON-encoded; the table's policy names the
 * methods (`grpcMethods`).
 */
export function nestGrpcAdapter(name: string): E2eAdapter {
  return {
    name,
    client: grpcClient,
    async start(config) {
      const methods: Record<string, unknown> = {}
      const handlers: HandlerSpec[] = []
      for (const route of config.routes) {
        const path = grpcMethodOf(route.path)
        const method = path.slice(path.lastIndexOf('/') + 1)
        methods[method] = jsonUnaryMethod(path)
        handlers.push({
          decorators: [GrpcMethod('Routes', method), ...accessDecorators(route)],
          params: [Caller()],
          body: (caller: Caller | undefined) => ({ caller: callerView(caller) }),
        })
      }
      const verifier: CallerVerifierOptions = config.verifier.authorizer
        ? { ...config.verifier, authorizer: GRPC_POLICY }
        : config.verifier
      const source = new StaticSource({ svid: config.svid })
      const strategy = new SvidGrpcServer(
        {
          package: 'svidkit.e2e',
          packageDefinition: { 'svidkit.e2e.Routes': methods },
          url: `${config.host}:0`,
        },
        { source, clientCertificate: 'requested' },
      )
      const app: INestMicroservice = await NestFactory.createMicroservice<MicroserviceOptions>(
        appModuleOf(verifier, controllerOf(handlers, [Controller()])),
        { strategy, logger: false },
      )
      await app.listen()
      return {
        url: `https://${config.host}:${strategy.port}`,
        async close() {
          await app.close()
          await source.close()
        },
      }
    },
  }
}

/**
 * `@svidkit/nestjs` for the routing table: public and optional routes by decorator, the others need
 * a caller and the global policy decides. Routers: Express `default` and `strict` (`case sensitive
 * routing`, `strict routing`); Fastify `default`, `loose` (every loose router option) and
 * `loose-router-options` (the same in `routerOptions`).
 */
export function nestRoutingAdapter(name: string, platform: NestPlatform): RoutingAdapter {
  return {
    name,
    routers: platform === 'express' ? ['default', 'strict'] : ['default', 'loose', 'loose-router-options'],
    async start(config) {
      const controller = controllerOf(
        config.routes.map((route: RoutingRoute) => ({
          decorators: [
            route.method === 'GET' ? Get(route.template) : Post(route.template),
            HttpCode(200), // Nest answers POST with 201 by default; the table expects the framework-neutral 200
            ...(route.access === 'public'
              ? [Public()]
              : route.access === 'optional'
                ? [OptionalCaller()]
                : []),
          ],
          params: [Caller(), Req(), Param()],
          body: (caller: Caller | undefined, req: { method: string }, params: Record<string, string>) => {
            config.record({ route, params: { ...params }, requestMethod: req.method, caller })
            return { caller: callerView(caller) }
          },
        })),
        [Controller()],
      )
      return listen(platform, appModuleOf(config.verifier, controller), config.tls, config.router)
    },
  }
}
