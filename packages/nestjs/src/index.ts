/**
 * `@svidkit/nestjs`: SPIFFE workload identity for NestJS. `SvidkitModule.forRoot()` registers one
 * global guard that verifies every request's caller through `@svidkit/core` (mTLS, XFCC from a
 * trusted proxy, JWT-SVID, OIDC) on Express, Fastify and the gRPC transport; decorators say what each
 * handler asks of its caller; `@Caller()` hands it the verified caller. The gRPC transport's SVID
 * listener is in `@svidkit/nestjs/grpc`.
 *
 * @example
 * ```ts
 * import { Caller, Public, RequireScopes, SvidkitModule } from '@svidkit/nestjs'
 *
 * @Controller('orders')
 * class OrdersController {
 *   @Get(':id') find(@Param('id') id: string, @Caller() caller: Caller) {}
 *   @RequireScopes('orders:write') @Post() create() {}
 *   @Public() @Get('/healthz') health() {}
 * }
 *
 * @Module({ imports: [SvidkitModule.forRoot({ source: true })], controllers: [OrdersController] })
 * class AppModule {}
 * ```
 * @module
 */
export type { RouteRequirement } from '@svidkit/core/adapter'
export { callerOf } from './caller-of.js'
export { Caller } from './decorators/caller.decorator.js'
export { OptionalCaller } from './decorators/optional-caller.decorator.js'
export { Public } from './decorators/public.decorator.js'
export { RequireCaller } from './decorators/require-caller.decorator.js'
export { RequireScopes } from './decorators/require-scopes.decorator.js'
export { SVIDKIT_VERIFIER, SVIDKIT_X509_SOURCE } from './svidkit.constants.js'
export { SvidkitGuard } from './svidkit.guard.js'
export type { SvidkitModuleExtras } from './svidkit.module.js'
export { SVIDKIT_MODULE_OPTIONS, SvidkitModule } from './svidkit.module.js'
export type {
  SvidkitModuleOptions,
  SvidkitNestOptions,
  SvidkitSourceOption,
  SvidkitVerifierOptions,
  SvidkitX509Source,
} from './svidkit-module.options.js'
