import {
  ConfigurableModuleBuilder,
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common'
import { APP_GUARD, DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core'
import { SVIDKIT_VERIFIER, SVIDKIT_X509_SOURCE } from './svidkit.constants.js'
import { SvidkitGuard } from './svidkit.guard.js'
import type { SvidkitModuleOptions } from './svidkit-module.options.js'
import { createSvidkitRuntime, SVIDKIT_RUNTIME, type SvidkitRuntime } from './svidkit-runtime.js'

/**
 * Injection token of the module's options (what `forRoot()` was given, or `forRootAsync()`'s factory
 * returned), without the module extras.
 *
 * @example
 * ```ts
 * constructor(@Inject(SVIDKIT_MODULE_OPTIONS) options: SvidkitModuleOptions) {}
 * ```
 */
export const SVIDKIT_MODULE_OPTIONS: unique symbol = Symbol.for('@svidkit/nestjs.options')

/**
 * How the module is registered, given to `forRoot()` and `forRootAsync()` beside the options.
 *
 * @example
 * ```ts
 * SvidkitModule.forRootAsync({ isGlobal: true, globalGuard: false, inject: [ConfigService], useFactory })
 * ```
 */
export interface SvidkitModuleExtras {
  /** Register the module globally, so `@UseGuards(SvidkitGuard)` and its tokens work in every module. Default `true`. */
  isGlobal: boolean
  /** Register `SvidkitGuard` as a global guard (`APP_GUARD`). Default `true`; `false` to use `@UseGuards(SvidkitGuard)`. */
  globalGuard: boolean
}

const { ConfigurableModuleClass } = new ConfigurableModuleBuilder<SvidkitModuleOptions>({
  moduleName: 'Svidkit',
  optionsInjectionToken: SVIDKIT_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<SvidkitModuleExtras>(
    { isGlobal: true, globalGuard: true },
    (definition: DynamicModule, extras: SvidkitModuleExtras): DynamicModule => ({
      ...definition,
      global: extras.isGlobal,
      providers: [
        ...(definition.providers ?? []),
        ...(extras.globalGuard ? [{ provide: APP_GUARD, useClass: SvidkitGuard }] : []),
      ],
    }),
  )
  .build()

/**
 * The svidkit module: one verifier (core's caller pipeline) and one X.509 source per application, and
 * `SvidkitGuard` as a global guard, so every handler needs a verified caller unless it says otherwise
 * (`@Public()`, `@OptionalCaller()`, `@RequireCaller()`, `@RequireScopes()`; read the caller with
 * `@Caller()`).
 *
 * - `forRoot(options)` / `forRootAsync({ imports, inject, useFactory | useClass | useExisting })`,
 *   with the extras `isGlobal` (default `true`) and `globalGuard` (default `true`).
 * - Options: core's `CallerVerifierOptions` (bundles, channels, `jwt`, `xfcc`, `oidc`, policy
 *   `authorizer`, `audit`…) or a ready `verifier`, plus `source`, `realm`, `defaultMode`, `errorBody`.
 * - Provides `SVIDKIT_VERIFIER`, `SVIDKIT_X509_SOURCE`, `SVIDKIT_MODULE_OPTIONS` and `SvidkitGuard`.
 * - When the application starts, every controller handler's requirement is compiled (a mistake fails
 *   the start, not a request); when it shuts down (`app.close()`, or a signal with
 *   `app.enableShutdownHooks()`), the source is closed.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     SvidkitModule.forRoot({
 *       source: true, // the Workload API (SPIFFE_ENDPOINT_SOCKET): our SVID and the bundles
 *       jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
 *       authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')),
 *     }),
 *   ],
 *   controllers: [OrdersController],
 * })
 * export class AppModule {}
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: SVIDKIT_RUNTIME,
      useFactory: createSvidkitRuntime,
      inject: [SVIDKIT_MODULE_OPTIONS, Reflector],
    },
    { provide: SVIDKIT_VERIFIER, useFactory: (r: SvidkitRuntime) => r.verifier, inject: [SVIDKIT_RUNTIME] },
    {
      provide: SVIDKIT_X509_SOURCE,
      useFactory: (r: SvidkitRuntime) => r.source ?? null,
      inject: [SVIDKIT_RUNTIME],
    },
    SvidkitGuard,
  ],
  exports: [SVIDKIT_RUNTIME, SVIDKIT_VERIFIER, SVIDKIT_X509_SOURCE, SVIDKIT_MODULE_OPTIONS, SvidkitGuard],
})
export class SvidkitModule extends ConfigurableModuleClass implements OnModuleInit, OnApplicationShutdown {
  readonly #runtime: SvidkitRuntime
  readonly #discovery: DiscoveryService
  readonly #scanner: MetadataScanner

  constructor(
    @Inject(SVIDKIT_RUNTIME) runtime: SvidkitRuntime,
    @Inject(DiscoveryService) discovery: DiscoveryService,
    @Inject(MetadataScanner) scanner: MetadataScanner,
  ) {
    super()
    this.#runtime = runtime
    this.#discovery = discovery
    this.#scanner = scanner
  }

  /** Compiles the requirement of every controller handler now, so a mistake fails the start. */
  onModuleInit(): void {
    for (const wrapper of this.#discovery.getControllers()) {
      const controller: unknown = wrapper.metatype
      if (typeof controller !== 'function' || typeof controller.prototype !== 'object') continue
      const prototype = controller.prototype as Record<string, unknown>
      for (const name of this.#scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name]
        if (typeof handler === 'function') this.#runtime.routes.routeOf(handler, controller)
      }
    }
  }

  /** Closes the application's X.509 source. */
  async onApplicationShutdown(): Promise<void> {
    await this.#runtime.close()
  }
}
