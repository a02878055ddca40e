import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Optional,
} from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import {
  attempt,
  type CompiledRoute,
  credentialsFromGrpcCall,
  credentialsFromNodeRequest,
  expressRouting,
  fastifyRouting,
  type HttpOperationHints,
} from '@svidkit/core/adapter'
import type { HttpRouting, VerifiedCall } from '@svidkit/core/caller'
import { OptionsError, toGrpcStatus, toHttpResponse } from '@svidkit/core/errors'
import { attachCaller } from './caller-of.js'
import { type ExecutionTarget, executionTargetOf, type PlatformRequest } from './execution-target.js'
import { grpcConnectionOf } from './grpc-connection.js'
import { throwRpcStatus } from './rpc-exception.js'
import { SVIDKIT_RUNTIME, type SvidkitRuntime } from './svidkit-runtime.js'

type HttpTarget = Extract<ExecutionTarget, { kind: 'http' }>
type GrpcTarget = Extract<ExecutionTarget, { kind: 'grpc' }>

const WHAT = '@svidkit/nestjs'

// How each Fastify instance routes, read once per instance from its `initialConfig`.
const fastifyRoutings = new WeakMap<object, HttpRouting>()

/**
 * The operation hints of an HTTP request, after routing (guards run once the platform chose the
 * handler): the route template, and how the platform's router matches paths.
 * - Fastify: `request.routeOptions.url` and the instance's `initialConfig`;
 * - Express: `req.baseUrl` + `req.route.path`, and the app's routers' settings.
 */
function httpHints(request: PlatformRequest & object): HttpOperationHints {
  const fastify = request as {
    raw?: unknown
    routeOptions?: { url?: unknown }
    server?: { initialConfig?: object }
  }
  if (fastify.raw !== undefined && fastify.server?.initialConfig !== undefined) {
    const instance = fastify.server
    let routing = fastifyRoutings.get(instance)
    if (routing === undefined) {
      routing = fastifyRouting(instance.initialConfig as object)
      fastifyRoutings.set(instance, routing)
    }
    // Fastify 5 builds a new routeOptions object on every read: read it once.
    const url = fastify.routeOptions?.url
    return typeof url === 'string' ? { route: url, routing } : { routing }
  }
  const express = request as { app?: object; baseUrl?: unknown; route?: { path?: unknown } }
  if (express.app === undefined) return {}
  const routing = expressRouting(express.app, WHAT)
  const path = express.route?.path
  return typeof path === 'string'
    ? { route: `${typeof express.baseUrl === 'string' ? express.baseUrl : ''}${path}`, routing }
    : { routing }
}

/**
 * The svidkit guard: authenticates and authorizes every request of the handlers it guards through
 * `@svidkit/core`'s one caller pipeline, with the handler's requirement (`@Public()`,
 * `@OptionalCaller()`, `@RequireCaller()`, `@RequireScopes()`, nearest first), compiled once per
 * handler. `SvidkitModule` registers it as a global guard (`APP_GUARD`); with `globalGuard: false`
 * use it with `@UseGuards(SvidkitGuard)`.
 *
 * - **HTTP** (Express and Fastify): the request's TLS connection (`req.raw ?? req`), the
 *   `Authorization`, XFCC and forwarded-certificate headers; the operation is the method and path,
 *   with the route template the platform chose and how its router matches paths.
 * - **gRPC** (`@nestjs/microservices`): the call's metadata, and its connection when it came through
 *   `SvidGrpcServer` (`@svidkit/nestjs/grpc`), whose client chain core verified; the operation is
 *   the full method, `/package.Service/Method`. Unary, server-streaming, `@GrpcStreamMethod` and
 *   `@GrpcStreamCall` handlers alike.
 * - **GraphQL**: the resolver context's HTTP request (`req` or `request`).
 *
 * A refusal is thrown, never returned as `false`: on HTTP an `HttpException` with core's status and
 * body, and `WWW-Authenticate` set on the response through the platform's adapter; on gRPC an
 * `RpcException({ code, message })` with 16 UNAUTHENTICATED or 7 PERMISSION_DENIED (13, 14 for
 * internal and unavailable), so the client receives that code. Other RPC transports and WebSocket
 * contexts are refused unless the handler is `@Public()`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [SvidkitModule.forRoot({ source: true, globalGuard: false })],
 *   controllers: [OrdersController],
 * })
 * export class AppModule {}
 *
 * @UseGuards(SvidkitGuard)
 * @Controller('orders')
 * export class OrdersController {}
 * ```
 */
@Injectable()
export class SvidkitGuard implements CanActivate {
  readonly #runtime: SvidkitRuntime
  readonly #adapterHost: HttpAdapterHost | undefined

  constructor(
    @Inject(SVIDKIT_RUNTIME) runtime: SvidkitRuntime,
    @Optional() @Inject(HttpAdapterHost) adapterHost?: HttpAdapterHost,
  ) {
    this.#runtime = runtime
    this.#adapterHost = adapterHost
  }

  /**
   * Verifies the caller of `context`'s request and attaches it; `true` when it may proceed. Throws
   * (or rejects with) the refusal; never returns `false`.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const runtime = this.#runtime
    let route: CompiledRoute
    let target: ExecutionTarget
    try {
      route = runtime.routes.routeOf(context.getHandler(), context.getClass())
      if (route.mode === 'none') return true
      target = executionTargetOf(context)
    } catch (err) {
      return this.#refuse(context, err)
    }
    if (target.kind === 'http') return this.#http(target, route)
    if (target.kind === 'grpc') return this.#grpc(target, route)
    return this.#refuse(
      context,
      new OptionsError(
        'ERR_OPTIONS_INVALID',
        `${WHAT}: SvidkitGuard cannot authenticate a ${target.type} context (HTTP, GraphQL over HTTP and gRPC only); mark the handler @Public() if it needs no caller`,
      ),
    )
  }

  #http(target: HttpTarget, route: CompiledRoute): boolean | Promise<boolean> {
    const verifier = this.#runtime.verifier
    return attempt<VerifiedCall, boolean>(
      () =>
        verifier.verifyCaller(
          credentialsFromNodeRequest(verifier, target.raw, httpHints(target.request)),
          route.verify,
        ),
      ({ caller }) => {
        if (caller) attachCaller(target.raw, caller)
        return true
      },
      (err) => this.#refuseHttp(err, target.request, target.response),
    )
  }

  #grpc(target: GrpcTarget, route: CompiledRoute): boolean | Promise<boolean> {
    const verifier = this.#runtime.verifier
    const { call } = target
    return attempt<VerifiedCall, boolean>(
      () => {
        const socket = grpcConnectionOf(call)
        return verifier.verifyCaller(
          credentialsFromGrpcCall(verifier, {
            method: call.getPath(),
            metadata: call.metadata,
            socket,
            peer: call.getPeer(),
          }),
          route.verify,
        )
      },
      ({ caller }) => {
        if (caller) attachCaller(call.metadata, caller)
        return true
      },
      (err) => throwRpcStatus(toGrpcStatus(err)),
    )
  }

  /** Refuses in the way of `context`'s transport. */
  #refuse(context: ExecutionContext, err: unknown): never | Promise<never> {
    const type = context.getType<string>()
    if (type === 'rpc') return throwRpcStatus(toGrpcStatus(err))
    if (type === 'http') this.#refuseHttp(err, context.getArgByIndex(0), context.getArgByIndex(1))
    // A GraphQL resolver: Nest maps the HttpException to a GraphQL error.
    if (type === 'graphql') this.#refuseHttp(err, undefined, undefined)
    throw err
  }

  /**
   * Throws the `HttpException` of core's status table for `err`, with `WWW-Authenticate` set on the
   * response first (an `HttpException` cannot carry headers).
   */
  #refuseHttp(err: unknown, request: unknown, response: unknown): never {
    const { realm, errorBody } = this.#runtime
    const { status, headers, body } = toHttpResponse(err, realm === undefined ? {} : { realm })
    const adapter = this.#adapterHost?.httpAdapter
    if (response !== undefined && response !== null) {
      for (const [name, value] of Object.entries(headers)) {
        if (adapter) adapter.setHeader(response, name, value)
        else (response as { setHeader?(n: string, v: string): void }).setHeader?.(name, value)
      }
    }
    throw new HttpException(
      errorBody ? (errorBody(body, request) as Record<string, unknown>) : { ...body },
      status,
      { cause: err },
    )
  }
}
