import { type ErrorCode, statusTable } from './status-table.js'

const BRAND = Symbol.for('@svidkit/core.error')

/**
 * Options accepted by every svidkit error constructor.
 *
 * @example
 * ```ts
 * const options: SvidkitErrorOptions = { cause: err, details: { rule: 'orders-read' } }
 * throw new AccessDeniedError('ERR_ACCESS_DENIED', 'denied by rule "orders-read"', options)
 * ```
 */
export interface SvidkitErrorOptions {
  /** The underlying error, kept for debugging; never shown to callers by the adapters. */
  cause?: unknown
  /** Structured, non-secret details (for example the matched rule or the required scopes). */
  details?: Readonly<Record<string, unknown>>
}

/**
 * The base class of every error svidkit throws. Each error carries a stable string `code` (see
 * `statusTable`) and a message of the form `<domain>: <reason>`. Messages never contain tokens or keys.
 *
 * `instanceof` works across duplicated copies of the package (ESM and CJS loaded side by side), but
 * checking `code` is the supported way to branch.
 *
 * @example
 * ```ts
 * import { SvidkitError } from '@svidkit/core/errors'
 * try {
 *   SpiffeId.parse('spiffe://example.org/a/')
 * } catch (err) {
 *   if (err instanceof SvidkitError && err.code === 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH') {
 *     console.log(err.message) // "spiffeid: path cannot have a trailing slash"
 *   }
 * }
 * ```
 */
export class SvidkitError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode
  /** The domain prefix of the message (`spiffeid`, `jwtsvid`, …). */
  readonly domain: string
  /** The reason without the domain prefix. */
  readonly reason: string
  /** Structured, non-secret details. */
  readonly details: Readonly<Record<string, unknown>> | undefined
  declare readonly [BRAND]: readonly string[]

  constructor(code: ErrorCode, reason: string, options: SvidkitErrorOptions = {}) {
    const entry = statusTable[code] ?? statusTable.ERR_INTERNAL
    super(`${entry.domain}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.domain = entry.domain
    this.reason = reason
    this.details = options.details
    const kinds: string[] = []
    for (let p: unknown = new.target; typeof p === 'function' && p !== Error; p = Object.getPrototypeOf(p)) {
      kinds.push((p as { name: string }).name)
    }
    Object.defineProperty(this, BRAND, { value: kinds, enumerable: false })
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being tested against.
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true
    if (typeof value !== 'object' || value === null) return false
    const kinds = (value as { [BRAND]?: unknown })[BRAND]
    // biome-ignore lint/complexity/noThisInStatic: as above.
    return Array.isArray(kinds) && kinds.includes(this.name)
  }

  /** A JSON shape safe to return to callers or print: `{ code, message }` plus details. */
  toJSON(): { code: ErrorCode; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message }
  }
}

/**
 * Whether `value` is a svidkit error (from any copy of the package).
 *
 * @example
 * ```ts
 * if (isSvidkitError(err)) console.log(err.code)
 * ```
 */
export function isSvidkitError(value: unknown): value is SvidkitError {
  return value instanceof SvidkitError
}
