import { SvidkitError } from '@svidkit/core/errors'

/**
 * The `code` of a svidkit error: the one `fn` throws (or, when `fn` returns a promise, rejects with),
 * the one a promise rejects with, or of an error you already hold, found along its `cause` chain (as
 * `fetch` wraps it). A call that succeeds gives `'OK'`; an error with no `SvidkitError` behind it is
 * rethrown, so a test that expects a typed refusal fails
 * loudly on a crash.
 *
 * @example
 * ```ts
 * expect(codeOf(() => SpiffeId.parse('spiffe://example.org/a/'))).toBe('ERR_SPIFFE_ID_PATH_TRAILING_SLASH')
 * expect(await codeOf(() => verifier.verifyCaller(credentials))).toBe('ERR_CREDENTIALS_MISSING')
 * expect(await codeOf(oidc.verify(token))).toBe('ERR_OIDC_EXPIRED')
 * expect(codeOf(await nextClientError(server))).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
 * ```
 */
export function codeOf(fn: () => Promise<unknown>): Promise<string>
export function codeOf(promise: Promise<unknown>): Promise<string>
export function codeOf(fn: () => unknown): string
export function codeOf(error: Error): string
export function codeOf(target: (() => unknown) | Promise<unknown> | Error): string | Promise<string> {
  if (target instanceof Promise) return target.then(() => 'OK', codeOfError)
  if (typeof target !== 'function') return codeOfError(target)
  let value: unknown
  try {
    value = target()
  } catch (err) {
    return codeOfError(err)
  }
  if (value instanceof Promise) return value.then(() => 'OK', codeOfError)
  return 'OK'
}

/** The code of the first SvidkitError along the `cause` chain (fetch wraps errors in a TypeError). */
function codeOfError(err: unknown): string {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof SvidkitError) return e.code
  }
  throw err
}
