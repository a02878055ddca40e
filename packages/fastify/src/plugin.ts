import {
  attempt,
  type CompiledRoute,
  callerVerifierFrom,
  compileRoute,
  credentialsFromNodeRequest,
  fastifyRouting,
  type HttpOperationHints,
  httpOperation,
  type RouteRequirement,
  routeModeOf,
  validateRoute,
} from '@svidkit/core/adapter'
import type { Caller, HttpRouting } from '@svidkit/core/caller'
import { OptionsError, toHttpResponse } from '@svidkit/core/errors'
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  onRequestHookHandler,
  preHandlerHookHandler,
} from 'fastify'
import fp from 'fastify-plugin'
import { auditLoggerOf } from './audit-logger.js'
import type { SvidkitFastifyDecorator } from './augment.js'
import type { SvidkitFastifyOptions } from './options.js'

const kCaller = Symbol('svidkit.caller')

type RequestWithCaller = FastifyRequest & { [kCaller]: Caller | null }

function bad(reason: string): never {
  throw new OptionsError('ERR_OPTIONS_INVALID', `@svidkit/fastify: ${reason}`)
}

// Fastify 5 builds a new `request.routeOptions` object on every read: read it once per request.
type RouteOptions = FastifyRequest['routeOptions']

function hints(routeOptions: RouteOptions, routing: HttpRouting): HttpOperationHints {
  const url = routeOptions.url
  return typeof url === 'string' ? { route: url, routing } : { routing }
}

function svidConfigOf(routeOptions: RouteOptions): unknown {
  return (routeOptions.config as { svid?: unknown } | undefined)?.svid
}

// Avvio does not catch a synchronous throw of a callback plugin: report option errors through `done`.
const plugin: FastifyPluginCallback<SvidkitFastifyOptions> = (fastify, options, done) => {
  try {
    register(fastify, options)
  } catch (err) {
    return done(err instanceof Error ? err : new Error(String(err)))
  }
  done()
}

function register(fastify: FastifyInstance, options: SvidkitFastifyOptions): void {
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  const name = options.decoratorName ?? 'caller'
  if (typeof name !== 'string' || name === '') bad('decoratorName must be a non-empty string')
  const realm = options.realm
  if (realm !== undefined && typeof realm !== 'string') bad('realm must be a string')
  const defaultMode = routeModeOf(options.defaultMode, '@svidkit/fastify')
  const errorBody = options.errorBody
  if (errorBody !== undefined && typeof errorBody !== 'function') bad('errorBody must be a function')
  const { decoratorName: _n, realm: _r, defaultMode: _m, errorBody: _e, ...verifierInput } = options
  // Audit events go to fastify.log unless the options say otherwise (`audit: false` turns them off);
  // a Fastify made with `logger: false` has nowhere to write them, so none are built.
  const logger = auditLoggerOf(fastify.log)
  const verifier = callerVerifierFrom(
    verifierInput,
    logger === undefined ? {} : { audit: { logger } },
    '@svidkit/fastify',
  )
  const httpOptions = realm === undefined ? {} : { realm }
  const routing = fastifyRouting(fastify.initialConfig)

  // Every refusal goes through core's one status table; only the body can be customised.
  const fail = (
    err: unknown,
    request: FastifyRequest,
    reply: FastifyReply,
    next: HookHandlerDoneFunction,
  ) => {
    try {
      const { status, headers, body } = toHttpResponse(err, httpOptions)
      reply
        .code(status)
        .headers(headers)
        .send(errorBody ? errorBody(body, request) : body)
    } catch (error) {
      next(error instanceof Error ? error : new Error(String(error)))
    }
  }

  // Route requirements are compiled once, when the route is registered (or, for a route registered
  // before this plugin, on its first request), never per request.
  const routes = new WeakMap<object, CompiledRoute>()
  const defaultRoute = compileRoute(undefined, verifier, { defaultMode })
  const compile = (svid: unknown): CompiledRoute => {
    if (svid === undefined) return defaultRoute
    if (typeof svid !== 'object' || svid === null) bad('config.svid must be an object')
    const cached = routes.get(svid)
    if (cached) return cached
    const compiled = compileRoute(svid as RouteRequirement, verifier, {
      defaultMode,
      what: '@svidkit/fastify: config.svid',
    })
    routes.set(svid, compiled)
    return compiled
  }
  fastify.addHook('onRoute', (route) => {
    compile((route.config as { svid?: unknown } | undefined)?.svid)
  })

  fastify.decorateRequest(kCaller, null)
  fastify.decorateRequest(name, {
    getter(this: FastifyRequest) {
      return (this as RequestWithCaller)[kCaller] ?? undefined
    },
  })

  // Authentication runs in onRequest, so the bodies of refused requests are never parsed.
  const onRequest: onRequestHookHandler = (request, reply, next) => {
    let routeOptions: RouteOptions
    let route: CompiledRoute
    try {
      routeOptions = request.routeOptions
      route = compile(svidConfigOf(routeOptions))
    } catch (err) {
      return fail(err, request, reply, next)
    }
    if (route.mode === 'none') return next()
    attempt(
      () =>
        verifier.verifyCaller(
          credentialsFromNodeRequest(verifier, request.raw, hints(routeOptions, routing)),
          route.verify,
        ),
      (result) => {
        ;(request as RequestWithCaller)[kCaller] = result.caller ?? null
        next()
      },
      (err) => fail(err, request, reply, next),
    )
  }
  fastify.addHook('onRequest', onRequest)

  const decorator: SvidkitFastifyDecorator = Object.freeze({
    verifier,
    require(requirement: RouteRequirement): preHandlerHookHandler {
      const what = '@svidkit/fastify: svid.require()'
      validateRoute(requirement, what)
      if (requirement.public !== undefined || requirement.optional !== undefined) {
        bad('svid.require(): "public" and "optional" belong in the route\'s config.svid')
      }
      const authorizer = compileRoute(requirement, verifier, { what }).requirement
      if (authorizer === undefined) bad('svid.require() needs at least one condition')
      return (request, reply, next) => {
        attempt(
          () =>
            verifier.authorizeCaller(
              (request as RequestWithCaller)[kCaller] ?? undefined,
              httpOperation(request.raw, hints(request.routeOptions, routing)),
              authorizer!,
            ),
          () => next(),
          (err) => fail(err, request, reply, next),
        )
      }
    },
  })
  fastify.decorate('svid', decorator)
}

/**
 * The svidkit Fastify plugin. It authenticates requests in `onRequest` (so refused bodies are never
 * parsed) through core's `verifyCaller` — mTLS peer, XFCC from a trusted proxy, JWT-SVID or OIDC, as
 * configured — applies the route's `config.svid` requirement and the global authorizer, and sets a
 * typed, read-only `request.caller` (a getter). Errors go through core's status table (401/403 with
 * RFC 6750 `WWW-Authenticate`, 400, 500, 503), and every decision is audited (to `fastify.log` by
 * default). Options are validated when the plugin is registered; route requirements when the route is.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import svidkit from '@svidkit/fastify'
 * const app = Fastify()
 * await app.register(svidkit, { bundles: x509Source, self: x509Source, jwt: { audience: 'orders' } })
 * app.get('/orders', { config: { svid: { scopes: ['orders:read'] } } }, (request) => ({
 *   caller: request.caller?.spiffeId?.toString(),
 * }))
 * app.get('/healthz', { config: { svid: { public: true } } }, () => 'ok')
 * ```
 */
export const svidkitFastify: FastifyPluginCallback<SvidkitFastifyOptions> = fp(plugin, {
  fastify: '4.x || 5.x',
  name: '@svidkit/fastify',
})
