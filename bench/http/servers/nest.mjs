// One NestJS 12 server per process, on Express or Fastify: `node bench/http/servers/nest-express.mjs
// <config> <port>` (or nest-fastify.mjs). Prints `READY <port>` once listening on 127.0.0.1. Every
// configuration answers `GET /hello` with the same body:
// - `bare`: no guard;
// - `trivial-guard`: a global guard (APP_GUARD) whose canActivate returns true, the baseline of the
//   svidkit rows (perf-anchors.md's NestJS anchor: the guard call itself);
// - `svidkit-*`: @svidkit/nestjs's global guard with bench/http's svidkit options; the handler checks
//   that the caller is set (`@Caller()`).
// Nest 12 is ESM-only and this file is plain JavaScript: the decorators are applied by hand, exactly
// as TypeScript's decorator output applies them.
import 'reflect-metadata'
import { Controller, Get, Injectable, Module, Res } from '@nestjs/common'
import { APP_GUARD, NestFactory } from '@nestjs/core'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { createCallerVerifier } from '@svidkit/core/caller'
import { Caller, SvidkitModule } from '@svidkit/nestjs'
import { BODY, PATH, parseArgs, ready, svidkitOptions } from './common.mjs'

/** Applies `decorators` to `Class.prototype[name]`, as `@decorator` on the method would. */
function decorateMethod(Class, name, decorators, params = []) {
  const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, name)
  for (const [index, decorate] of params.entries()) decorate(Class.prototype, name, index)
  for (const decorate of [...decorators].reverse()) decorate(Class.prototype, name, descriptor)
  Object.defineProperty(Class.prototype, name, descriptor)
}

/**
 * The Nest application of `config` on `platform` (not listening yet); `wrap` may replace the verifier
 * built from the configuration's options (nest-guard-micro.mjs times core's part with it).
 */
export async function createNestApp(platform, config, fixture, wrap) {
  let svidkitConfig = svidkitOptions(config, fixture)
  if (svidkitConfig && wrap) svidkitConfig = { verifier: wrap(createCallerVerifier(svidkitConfig)) }

  class HelloController {
    hello(caller, res) {
      if (svidkitConfig && caller === undefined) res.status(500)
      return BODY
    }
  }
  decorateMethod(HelloController, 'hello', [Get(PATH)], [Caller(), Res({ passthrough: true })])
  Controller()(HelloController)

  class TrivialGuard {
    canActivate() {
      return true
    }
  }
  Injectable()(TrivialGuard)

  const imports = svidkitConfig ? [SvidkitModule.forRoot(svidkitConfig)] : []
  const providers = config === 'trivial-guard' ? [{ provide: APP_GUARD, useClass: TrivialGuard }] : []
  class AppModule {}
  Module({ imports, providers, controllers: [HelloController] })(AppModule)

  return platform === 'fastify'
    ? NestFactory.create(AppModule, new FastifyAdapter(), { logger: false })
    : NestFactory.create(AppModule, { logger: false })
}

export async function serveNest(platform) {
  const { config, port, fixture } = parseArgs(`nest-${platform}`)
  const app = await createNestApp(platform, config, fixture)
  await app.listen(port, '127.0.0.1')
  ready(app.getHttpServer().address().port)
}
