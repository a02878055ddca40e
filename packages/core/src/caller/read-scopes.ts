/**
 * Reads the scopes a token grants: `scope` (a space-separated string, RFC 8693 §4.2, or an array) and
 * `scp` (string or array, as Entra and Okta issue). Both are read; duplicates are dropped. Anything
 * that is not a string or an array of strings gives no scopes (fail closed).
 *
 * @example
 * ```ts
 * readScopes({ scope: 'orders:read orders:write' }) // ['orders:read', 'orders:write']
 * readScopes({ scp: ['admin'] })                     // ['admin']
 * ```
 */
export function readScopes(claims: Readonly<Record<string, unknown>> | undefined): readonly string[] {
  if (claims === undefined) return EMPTY
  const scope = Object.hasOwn(claims, 'scope') ? claims.scope : undefined
  const scp = Object.hasOwn(claims, 'scp') ? claims.scp : undefined
  if (scope === undefined && scp === undefined) return EMPTY
  const out = new Set<string>()
  for (const v of [scope, scp]) {
    if (typeof v === 'string') {
      for (const s of v.split(' ')) if (s !== '') out.add(s)
    } else if (Array.isArray(v)) {
      for (const s of v) if (typeof s === 'string' && s !== '') out.add(s)
    }
  }
  return Object.freeze([...out])
}

const EMPTY: readonly string[] = Object.freeze([])
