import {
  attempt,
  type CallerVerifierInput,
  callerVerifierFrom,
  compileRoute,
  credentialsFromNodeRequest,
  expressRouting,
  type HttpOperationHints,
  httpOperation,
  type RouteRequirement,
  validateRoute,
} from '@svidkit/core/adapter'
import { type CallerVerifier, type HttpRouting, httpRouting } from '@svidkit/core/caller'
import { type HttpErrorBody, isSvidkitError, OptionsError, toHttpResponse } from '@svidkit/core/errors'
import type { Authorizer } from '@svidkit/core/policy'
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express'

const kState = Symbol.for('@svidkit/express.state')

/**
 * The Express-specific options of {@link svid} (everything else is core's `CallerVerifierOptions`).
 *
 * @example
 * ```ts
 * const adapter: SvidExpressAdapterOptions = { optional: true, realm: 'orders', errors: 'next' }
 * ```
 */
export interface SvidExpressAdapterOptions {
  /** Optional authentication: a request without any credentials gets `req.caller === undefined` instead of a 401. Invalid credentials are still refused. */
  optional?: boolean
  /** A requirement every request through this middleware must meet (see `RouteRequirement`). */
  requirement?: RouteRequirement
  /** `realm` of the `WWW-Authenticate` challenge. Default `svidkit`. */
  realm?: string
  /**
   * `respond` (default): answer refused requests at once, from core's status table. `next`: call
   * `next(err)` with the `SvidkitError` and let {@link svidErrorHandler} (or your own handler) answer.
   */
  errors?: 'respond' | 'next'
  /** Replaces the JSON error body. Status and headers always come from core's status table. */
  errorBody?: (body: HttpErrorBody, req: Request) => unknown
  /**
   * How your routers match paths, when you state it yourself (see core's `HttpRouting`). By default
   * it is read from the app: `case sensitive routing` and `strict routing`, and the `caseSensitive`
   * and `strict` options of every `express.Router()` mounted in it, which must then agree (a
   * request is refused with 500 `ERR_OPTIONS_INVALID` until they do). Express always answers `HEAD`
   * with `GET` handlers and never merges slashes or splits paths at `;`.
   */
  routing?: Partial<Omit<HttpRouting, 'headAsGet' | 'mergeSlashes' | 'semicolonDelimiter'>>
}

/**
 * Options of {@link svid}: core's `CallerVerifierOptions` (or a ready `verifier`, e.g. another
 * middleware's `.verifier`) plus {@link SvidExpressAdapterOptions}.
 *
 * @example
 * ```ts
 * const options: SvidExpressOptions = { bundles, jwt: { audience: 'orders' }, realm: 'orders' }
 * ```
 */
export type SvidExpressOptions = CallerVerifierInput & SvidExpressAdapterOptions

/**
 * The middleware returned by {@link svid}, with its verifier (to share with another `svid()`).
 *
 * @example
 * ```ts
 * const auth: SvidMiddleware = svid({ bundles, jwt: { audience: 'orders' } })
 * const maybe = svid({ verifier: auth.verifier, optional: true })
 * ```
 */
export interface SvidMiddleware extends RequestHandler {
  readonly verifier: CallerVerifier
}

type Responder = (err: unknown, req: Request, res: Response, next: NextFunction) => void
interface State {
  readonly verifier: CallerVerifier
  readonly respond: Responder
  /** The routing given in the options, or `undefined` to read it from the app. */
  readonly routing: HttpRouting | undefined
}
type WithState = Request & { [kState]?: State }

function bad(reason: string): never {
  throw new OptionsError('ERR_OPTIONS_INVALID', `@svidkit/express: ${reason}`)
}

/** `public` and `optional` are how `svid()` itself is mounted, not conditions on a caller. */
function noRouteModes(requirement: RouteRequirement | undefined, where: string): void {
  if (requirement !== undefined && (typeof requirement !== 'object' || requirement === null)) {
    bad(`${where}: the requirement must be an object`)
  }
  if (requirement && (requirement.public !== undefined || requirement.optional !== undefined)) {
    bad(
      `${where}: "public" and "optional" are not conditions: mount public routes before svid(), and use svid({ optional: true })`,
    )
  }
}

function checkErrorOptions(options: { realm?: unknown; errorBody?: unknown }): void {
  if (options.realm !== undefined && typeof options.realm !== 'string') bad('realm must be a string')
  if (options.errorBody !== undefined && typeof options.errorBody !== 'function')
    bad('errorBody must be a function')
}

/** Sends an error from core's status table: status, `WWW-Authenticate`, JSON body. */
function send(
  err: unknown,
  req: Request,
  res: Response,
  options: Pick<SvidExpressAdapterOptions, 'realm' | 'errorBody'>,
): void {
  const { status, headers, body } = toHttpResponse(
    err,
    options.realm === undefined ? {} : { realm: options.realm },
  )
  const payload = options.errorBody ? options.errorBody(body, req) : body
  res.status(status).set(headers).json(payload)
}

/** The routing stated in `svid({ routing })`: Express's fixed traits plus the two settings. */
function statedRouting(routing: SvidExpressAdapterOptions['routing']): HttpRouting {
  if (typeof routing !== 'object' || routing === null) bad('routing must be an object')
  const {
    caseSensitive = false,
    strictTrailingSlash = false,
    ...rest
  } = routing as NonNullable<typeof routing>
  if (Object.keys(rest).length > 0) {
    bad(
      `routing: unknown option "${Object.keys(rest)[0]}" (Express always serves HEAD with GET, and never merges slashes or splits at ";")`,
    )
  }
  try {
    return httpRouting({ caseSensitive, strictTrailingSlash })
  } catch (err) {
    return bad(`routing: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function responder(options: SvidExpressAdapterOptions): Responder {
  if (options.errors === 'next') return (err, _req, _res, next) => next(err)
  return (err, req, res, next) => {
    try {
      send(err, req, res, options)
    } catch (error) {
      next(error)
    }
  }
}

/**
 * The operation hints of a request: the routing, and on a route's own middleware (`requireCaller`)
 * the route template with its mount path, e.g. `/api` + `/orders/:id`.
 */
function hintsOf(req: Request, state: State): HttpOperationHints {
  const routing = state.routing ?? expressRouting(req.app, '@svidkit/express')
  const path = (req.route as { path?: unknown } | undefined)?.path
  return typeof path === 'string' ? { route: `${req.baseUrl ?? ''}${path}`, routing } : { routing }
}

/**
 * Express middleware that verifies the caller through core's `verifyCaller` (mTLS peer, XFCC from a
 * trusted proxy, JWT-SVID, OIDC — as configured), applies the optional `requirement` and the global
 * authorizer, and sets a typed `req.caller`. Refusals are answered from core's status table (401/403
 * with RFC 6750 `WWW-Authenticate`, 400, 500, 503). Every option is validated now, when the
 * middleware is created.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { requireScopes, svid } from '@svidkit/express'
 * const app = express()
 * app.get('/healthz', (req, res) => res.send('ok')) // before svid(): public
 * app.use(svid({ bundles: x509Source, jwt: { audience: 'admin' } }))
 * app.get('/users', requireScopes('users:read'), (req, res) => res.json({ caller: req.caller?.spiffeId?.toString() }))
 * ```
 */
export function svid(options: SvidExpressOptions): SvidMiddleware {
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  if (options.optional !== undefined && typeof options.optional !== 'boolean')
    bad('optional must be a boolean')
  if (options.errors !== undefined && options.errors !== 'respond' && options.errors !== 'next') {
    bad('errors must be "respond" or "next"')
  }
  checkErrorOptions(options)
  const {
    optional: _o,
    requirement: _q,
    realm: _r,
    errors: _e,
    errorBody: _b,
    routing: _g,
    ...verifierInput
  } = options
  const verifier = callerVerifierFrom(verifierInput, {}, '@svidkit/express')
  noRouteModes(options.requirement, 'svid({ requirement })')
  const { verify } = compileRoute({ ...options.requirement, optional: options.optional === true }, verifier, {
    what: '@svidkit/express: svid({ requirement })',
  })
  const state: State = Object.freeze({
    verifier,
    respond: responder(options),
    routing: options.routing === undefined ? undefined : statedRouting(options.routing),
  })
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    ;(req as WithState)[kState] = state
    attempt(
      () => verifier.verifyCaller(credentialsFromNodeRequest(verifier, req, hintsOf(req, state)), verify),
      (result) => {
        req.caller = result.caller
        next()
      },
      (err) => state.respond(err, req, res, next),
    )
  }
  return Object.assign(middleware, { verifier })
}

/**
 * A per-route check of the caller that `svid()` already verified: allowed callers, trust domains,
 * channels, scopes, boundaries, claim conditions (core's `RouteRequirement`). Validated now; compiled
 * once per verifier, on first use, with its identity templates (a boundary key the templates do not
 * capture is then a 500 `ERR_OPTIONS_INVALID`). Without a caller (optional authentication and
 * no credentials) it refuses with 401 `ERR_CREDENTIALS_MISSING`. Answers like the `svid()` before it.
 *
 * @example
 * ```ts
 * app.delete('/users/:id', requireCaller({ callers: ['spiffe://example.org/ns/ops/sa/admin'] }), handler)
 * app.get('/tenant', requireCaller({ boundary: { tenant: { sameAs: 'self' } } }), handler)
 * ```
 */
export function requireCaller(requirement: RouteRequirement): RequestHandler {
  // Validated now; boundary keys are checked against the verifier's identity templates when
  // the requirement is compiled for it, on the first request.
  const what = '@svidkit/express: requireCaller()'
  validateRoute(requirement, what)
  noRouteModes(requirement, 'requireCaller()')
  if (Object.keys(requirement).length === 0) bad('requireCaller() needs at least one condition')
  const compiled = new WeakMap<CallerVerifier, Authorizer>()
  return (req: Request, res: Response, next: NextFunction): void => {
    const state = (req as WithState)[kState]
    if (!state) {
      next(
        new OptionsError(
          'ERR_OPTIONS_INVALID',
          '@svidkit/express: requireCaller() needs the svid() middleware before it',
        ),
      )
      return
    }
    attempt(
      () => {
        let authorizer = compiled.get(state.verifier)
        if (!authorizer) {
          authorizer = compileRoute(requirement, state.verifier, { what }).requirement!
          compiled.set(state.verifier, authorizer)
        }
        return state.verifier.authorizeCaller(req.caller, httpOperation(req, hintsOf(req, state)), authorizer)
      },
      () => next(),
      (err) => state.respond(err, req, res, next),
    )
  }
}

/**
 * Requires every listed scope (from the token's `scope` or `scp` claim); 403 `ERR_SCOPE_MISSING`
 * with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` otherwise.
 *
 * @example
 * ```ts
 * app.post('/users', requireScopes('users:write'), handler)
 * ```
 */
export function requireScopes(...scopes: string[]): RequestHandler {
  if (scopes.length === 0 || scopes.some((s) => typeof s !== 'string' || s === '' || s.includes(' '))) {
    bad('requireScopes() needs one or more scope names without spaces')
  }
  return requireCaller({ id: `scopes:${scopes.join(' ')}`, scopes })
}

/**
 * An error handler that answers svidkit errors from core's status table (status, RFC 6750
 * `WWW-Authenticate`, JSON body) and passes anything else on. Use it with `svid({ errors: 'next' })`,
 * or to map svidkit errors your own code throws. Validated now.
 *
 * @example
 * ```ts
 * app.use(svid({ bundles, jwt: { audience: 'admin' }, errors: 'next' }))
 * // … routes …
 * app.use(svidErrorHandler({ realm: 'admin' }))
 * ```
 */
export function svidErrorHandler(
  options: Pick<SvidExpressAdapterOptions, 'realm' | 'errorBody'> = {},
): ErrorRequestHandler {
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  checkErrorOptions(options)
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (isSvidkitError(err) && !res.headersSent) send(err, req, res, options)
    else next(err)
  }
}
