import type { HttpRouting } from '../caller/http-routing.js'

/**
 * The result of {@link normalizeHttpPath}.
 *
 * @example
 * ```ts
 * const n: NormalizedHttpPath = normalizeHttpPath('/public/%2e%2e/admin')
 * if (!n.normal) console.log(n.problem) // why: here, a dot segment once decoded
 * ```
 */
export interface NormalizedHttpPath {
  /** The path used for matching: query and fragment dropped, unreserved `%XX` decoded, other escapes upper-cased. */
  readonly path: string
  /** Whether the path is in normal form. A path that is not can never match an ALLOW path condition. */
  readonly normal: boolean
  /** Why the path is not in normal form. */
  readonly problem?: string
}

// RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~"
const UNRESERVED = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  UNRESERVED[c] = /[A-Za-z0-9\-._~]/.test(ch) ? 1 : 0
}

const hex = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1

const notNormal = (path: string, problem: string): NormalizedHttpPath => ({ path, normal: false, problem })

/**
 * The one HTTP path normalization the policy engine uses, close to Istio's `BASE` but resolving
 * nothing, so that what policy sees is exactly what the framework routes:
 *
 * - the query (`?…`) and fragment (`#…`) are dropped (adapters should pass the path without them),
 *   and so is everything from a `;` when the router treats `;` as a delimiter;
 * - `%XX` escapes of unreserved characters (`A–Z a–z 0–9 - . _ ~`) are decoded, other escapes are
 *   kept with upper-case hex;
 * - then, under the router's {@link HttpRouting}: runs of slashes become one (`mergeSlashes`), one
 *   trailing slash is dropped (unless `strictTrailingSlash`), and ASCII letters are lower-cased
 *   (unless `caseSensitive`). Without a routing, paths are matched exactly;
 * - a path is **not in normal form** when it does not start with `/`, contains a `.` or `..`
 *   segment (also once decoded, e.g. `%2e%2e`), an encoded slash or backslash (`%2F`, `%5C`), a raw
 *   backslash, `%00`, a malformed escape or a control character, or (on a case-insensitive router,
 *   where case folding of other characters is the router's own) a raw non-ASCII character.
 *
 * A path that is not in normal form fails closed in the engine: it matches no ALLOW path condition
 * (neither `paths` nor `notPaths`), every DENY path condition (so `notPaths` exemptions do not
 * exempt it), and it is never allowed by `defaultAction: allow`.
 *
 * @example
 * ```ts
 * normalizeHttpPath('/orders/%7Eadmin?x=1') // { path: '/orders/~admin', normal: true }
 * normalizeHttpPath('/public/../admin').normal // false
 * normalizeHttpPath('/a%2Fb').normal // false
 * normalizeHttpPath('/Orders/42/', httpRouting({ caseSensitive: false, strictTrailingSlash: false })) // { path: '/orders/42', normal: true }
 * ```
 */
export function normalizeHttpPath(raw: string, routing?: HttpRouting): NormalizedHttpPath {
  if (typeof raw !== 'string' || raw.length === 0 || raw.charCodeAt(0) !== 47) {
    return notNormal(typeof raw === 'string' ? raw : '', 'path does not start with "/"')
  }
  // Fast path: nothing to decode and no dot segment, query, backslash or control character.
  if (isSimple(raw)) {
    if (routing === undefined || isExact(routing)) return { path: raw, normal: true }
    let p = raw
    if (routing.semicolonDelimiter) {
      const semi = p.indexOf(';')
      if (semi !== -1) p = p.slice(0, semi)
    }
    if (!routing.caseSensitive && NON_ASCII.test(p)) {
      return notNormal(p, 'path contains a non-ASCII character (send it percent-encoded)')
    }
    return { path: foldPath(p, routing, true), normal: true }
  }

  let path = raw
  const end = firstDelimiter(path, routing?.semicolonDelimiter === true)
  if (end !== -1) path = path.slice(0, end)
  const ascii = routing !== undefined && !routing.caseSensitive
  let out = ''
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c < 32 || c === 127) return notNormal(path, 'path contains a control character')
    if (c === 92) return notNormal(path, 'path contains a backslash')
    if (c > 127 && ascii) {
      return notNormal(path, 'path contains a non-ASCII character (send it percent-encoded)')
    }
    if (c !== 37) {
      out += path[i]
      continue
    }
    const h1 = hex(path.charCodeAt(i + 1))
    const h2 = hex(path.charCodeAt(i + 2))
    if (h1 < 0 || h2 < 0) return notNormal(path, 'path contains a malformed percent-escape')
    const v = h1 * 16 + h2
    if (v === 0x2f || v === 0x5c) return notNormal(path, 'path contains an encoded slash or backslash')
    if (v === 0) return notNormal(path, 'path contains %00')
    out +=
      v < 128 && UNRESERVED[v] === 1 ? String.fromCharCode(v) : `%${path.slice(i + 1, i + 3).toUpperCase()}`
    i += 2
  }
  if (routing?.mergeSlashes) out = out.replace(SLASHES, '/')
  for (const seg of out.split('/')) {
    if (seg === '.' || seg === '..') return notNormal(out, 'path contains a "." or ".." segment')
  }
  return { path: routing === undefined ? out : foldPath(out, routing, true), normal: true }
}

const SLASHES = /\/{2,}/g
const UPPER = /[A-Z]/
const NON_ASCII = /[\u0080-\uffff]/

function isExact(routing: HttpRouting): boolean {
  return (
    routing.caseSensitive &&
    routing.strictTrailingSlash &&
    !routing.mergeSlashes &&
    !routing.semicolonDelimiter
  )
}

/** No escape, query, fragment, backslash, control character or dot segment. */
function isSimple(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (c === 37 || c === 63 || c === 35 || c === 92 || c < 32 || c === 127) return false
    if (c === 46 && raw.charCodeAt(i - 1) === 47) {
      const n = raw.charCodeAt(i + 1)
      if (
        Number.isNaN(n) ||
        n === 47 ||
        (n === 46 && (i + 2 === raw.length || raw.charCodeAt(i + 2) === 47))
      ) {
        return false
      }
    }
  }
  return true
}

function firstDelimiter(path: string, semicolon: boolean): number {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c === 63 || c === 35 || (semicolon && c === 59)) return i
  }
  return -1
}

/**
 * Applies a routing's folding to a path (or to a rule's path pattern): merge slashes, drop one
 * trailing slash when `trim` and the router ignores it, lower-case ASCII letters when the router is
 * case-insensitive. A rule's prefix pattern (`/orders/*`) is folded without `trim`, so that it keeps
 * meaning "below `/orders/`".
 * @internal
 */
export function foldPath(path: string, routing: HttpRouting, trim: boolean): string {
  let p = path
  if (routing.mergeSlashes && p.includes('//')) p = p.replace(SLASHES, '/')
  if (trim && !routing.strictTrailingSlash && p.length > 1 && p.charCodeAt(p.length - 1) === 47) {
    p = p.slice(0, -1)
  }
  if (!routing.caseSensitive && UPPER.test(p)) p = asciiLower(p)
  return p
}

function asciiLower(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i]
  }
  return out
}

/**
 * The method of the handler that serves a request: `GET` for a `HEAD` request on a router that
 * answers `HEAD` with `GET` handlers, the request's method otherwise. What external engines (Cedar,
 * OPA) are given, since their policies cannot know the router.
 * @internal
 */
export function handlerMethod(method: string, routing: HttpRouting | undefined): string {
  return method === 'HEAD' && (routing === undefined || routing.headAsGet) ? 'GET' : method
}
