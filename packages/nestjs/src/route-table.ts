// Each handler's requirement, from the svidkit decorators on it and on its controller, compiled once
// against the verifier (internal).
import type { Reflector } from '@nestjs/core'
import {
  type CompiledRoute,
  compileRoute,
  type RouteMode,
  type RouteRequirement,
} from '@svidkit/core/adapter'
import type { CallerVerifier } from '@svidkit/core/caller'
import { OptionsError } from '@svidkit/core/errors'
import { AccessMetadata, RequireCallerMetadata, RequireScopesMetadata } from './decorators/route-metadata.js'

// biome-ignore lint/complexity/noBannedTypes: Nest's handlers and controllers are plain functions.
type Target = Function

function bad(reason: string): never {
  throw new OptionsError('ERR_OPTIONS_INVALID', `@svidkit/nestjs: ${reason}`)
}

/** `@RequireCaller({ scopes })` and `@RequireScopes()` together: all of both. */
function mergeScopes(
  fromRequirement: RouteRequirement['scopes'],
  listed: readonly string[] | undefined,
  where: string,
): RouteRequirement['scopes'] {
  if (listed === undefined) return fromRequirement
  if (fromRequirement === undefined) return listed
  const all = Array.isArray(fromRequirement)
    ? fromRequirement
    : 'allOf' in (fromRequirement as object)
      ? (fromRequirement as { allOf: readonly string[] }).allOf
      : undefined
  if (all === undefined) {
    bad(
      `${where}: @RequireScopes() cannot be added to @RequireCaller({ scopes: { anyOf } }); list every scope in one of them`,
    )
  }
  return [...new Set([...all, ...listed])]
}

export class RouteTable {
  readonly #reflector: Reflector
  readonly #verifier: CallerVerifier
  readonly #defaultMode: RouteMode
  readonly #default: CompiledRoute
  readonly #routes = new WeakMap<Target, WeakMap<Target, CompiledRoute>>()

  constructor(reflector: Reflector, verifier: CallerVerifier, defaultMode: RouteMode) {
    this.#reflector = reflector
    this.#verifier = verifier
    this.#defaultMode = defaultMode
    this.#default = compileRoute(undefined, verifier, { defaultMode })
  }

  /** The compiled requirement of `handler` on `controller`, compiled on first use, then cached. */
  routeOf(handler: Target, controller: Target): CompiledRoute {
    let byHandler = this.#routes.get(controller)
    if (byHandler === undefined) {
      byHandler = new WeakMap()
      this.#routes.set(controller, byHandler)
    }
    let route = byHandler.get(handler)
    if (route === undefined) {
      route = this.#compile(handler, controller)
      byHandler.set(handler, route)
    }
    return route
  }

  /**
   * What the decorators say, nearest first: a handler's `@Public()` / `@OptionalCaller()` /
   * `@RequireCaller()` / `@RequireScopes()` each override the controller's; a controller's
   * `@Public()` gives way to a handler's own requirement; `@Public()` and a requirement on the same
   * handler or controller is a mistake.
   */
  #compile(handler: Target, controller: Target): CompiledRoute {
    const r = this.#reflector
    const where = `${controller.name || 'controller'}.${handler.name || 'handler'}`
    for (const [level, target] of [
      ['handler', handler],
      ['controller', controller],
    ] as const) {
      if (
        r.get(AccessMetadata, target) === 'public' &&
        (r.get(RequireCallerMetadata, target) !== undefined ||
          r.get(RequireScopesMetadata, target) !== undefined)
      ) {
        bad(`${where}: @Public() and @RequireCaller()/@RequireScopes() on the same ${level}`)
      }
    }
    const targets = [handler, controller]
    const handlerAccess = r.get(AccessMetadata, handler)
    const ownConditions =
      r.get(RequireCallerMetadata, handler) !== undefined ||
      r.get(RequireScopesMetadata, handler) !== undefined
    const access = r.getAllAndOverride(AccessMetadata, targets)
    if (handlerAccess === 'public' || (access === 'public' && !ownConditions)) {
      return compileRoute({ public: true }, this.#verifier, { what: `@svidkit/nestjs: ${where}` })
    }
    const requirement = r.getAllAndOverride(RequireCallerMetadata, targets)
    const scopes = mergeScopes(
      requirement?.scopes,
      r.getAllAndOverride(RequireScopesMetadata, targets),
      where,
    )
    if (requirement === undefined && scopes === undefined && access === undefined) return this.#default
    const spec: RouteRequirement = {
      ...(requirement || scopes ? { id: requirement?.id ?? where } : {}),
      ...requirement,
      ...(scopes === undefined ? {} : { scopes }),
      ...(access === 'optional' ? { optional: true } : {}),
    }
    return compileRoute(spec, this.#verifier, {
      defaultMode: this.#defaultMode,
      what: `@svidkit/nestjs: ${where}`,
    })
  }
}
