import { OptionsError } from '../errors/domain-errors.js'

/**
 * How a framework's router matches HTTP request paths to handlers. Policy canonicalises both the
 * rule paths and the request path under it, so that what policy decides for is exactly what the
 * router serves: a DENY on `/orders/export` also stops `/orders/EXPORT` on a case-insensitive
 * router, and `/orders/export/` on one that ignores a trailing slash. Adapters read it from the
 * framework's own settings; build one with {@link httpRouting}.
 *
 * @example
 * ```ts
 * const express: HttpRouting = httpRouting({ caseSensitive: false, strictTrailingSlash: false })
 * const op = { kind: 'http', method: 'GET', path: '/Orders/42/', routing: express } as const
 * ```
 */
export interface HttpRouting {
  /** `/Orders` and `/orders` are different paths. Express: `case sensitive routing` (default off); Fastify: `caseSensitive` (default on). */
  readonly caseSensitive: boolean
  /** `/orders/` and `/orders` are different paths. Express: `strict routing` (default off); Fastify: not `ignoreTrailingSlash` (default on). */
  readonly strictTrailingSlash: boolean
  /** A run of slashes is one slash (`//orders` is `/orders`). Fastify: `ignoreDuplicateSlashes` (default off); Express never. */
  readonly mergeSlashes: boolean
  /** A `;` ends the path, like `?` (`/orders;v=1` is `/orders`). Fastify: `useSemicolonDelimiter` (default on in 4, off in 5); Express never. */
  readonly semicolonDelimiter: boolean
  /** `HEAD` requests run `GET` handlers, so a rule naming `GET` covers `HEAD`. Express always; Fastify: `exposeHeadRoutes` (default on). */
  readonly headAsGet: boolean
}

const FIELDS = [
  'caseSensitive',
  'strictTrailingSlash',
  'mergeSlashes',
  'semicolonDelimiter',
  'headAsGet',
] as const

/** The routing assumed when an operation carries none: exact paths, `HEAD` served by `GET`. */
const EXACT = {
  caseSensitive: true,
  strictTrailingSlash: true,
  mergeSlashes: false,
  semicolonDelimiter: false,
  headAsGet: true,
}

// One frozen object per combination, so adapters and policy share them.
const interned: HttpRouting[] = []

/**
 * A number from 0 to 31 that identifies a routing mode (policy compiles its path rules once per mode).
 * @internal
 */
export function routingKey(routing: HttpRouting | undefined): number {
  if (routing === undefined) return DEFAULT_KEY
  return (
    (routing.caseSensitive ? 1 : 0) |
    (routing.strictTrailingSlash ? 2 : 0) |
    (routing.mergeSlashes ? 4 : 0) |
    (routing.semicolonDelimiter ? 8 : 0) |
    (routing.headAsGet ? 16 : 0)
  )
}

const DEFAULT_KEY = routingKey(EXACT)

/**
 * Builds (and validates) an {@link HttpRouting}. Unset fields take the exact defaults: case
 * sensitive, strict trailing slash, no slash merging, no `;` delimiter, `HEAD` served by `GET`. The
 * same settings always give the same frozen object.
 *
 * @throws OptionsError `ERR_OPTIONS_INVALID` when a field is not a boolean or is unknown.
 * @example
 * ```ts
 * httpRouting() // exact matching
 * httpRouting({ caseSensitive: false, strictTrailingSlash: false }) // Express's defaults
 * httpRouting({ semicolonDelimiter: true }) // Fastify 4's defaults
 * ```
 */
export function httpRouting(options: Partial<HttpRouting> = {}): HttpRouting {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'httpRouting: options must be an object')
  }
  for (const key of Object.keys(options)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw new OptionsError('ERR_OPTIONS_INVALID', `httpRouting: unknown option "${key}"`)
    }
    const v = (options as Record<string, unknown>)[key]
    if (v !== undefined && typeof v !== 'boolean') {
      throw new OptionsError('ERR_OPTIONS_INVALID', `httpRouting: "${key}" must be a boolean`)
    }
  }
  const full = { ...EXACT }
  for (const key of FIELDS) if (options[key] !== undefined) full[key] = options[key]
  return routingFor(routingKey(full))
}

/**
 * The shared object of a routing key.
 * @internal
 */
export function routingFor(key: number): HttpRouting {
  let r = interned[key]
  if (r === undefined) {
    r = Object.freeze({
      caseSensitive: (key & 1) !== 0,
      strictTrailingSlash: (key & 2) !== 0,
      mergeSlashes: (key & 4) !== 0,
      semicolonDelimiter: (key & 8) !== 0,
      headAsGet: (key & 16) !== 0,
    })
    interned[key] = r
  }
  return r
}
