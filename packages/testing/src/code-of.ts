import { SvidkitError } from '@svidkit/core/errors'

/**
 * The `code` of the svidkit error that `fn` throws (or, when `fn` returns a promise, rejects with),
 * or `'OK'` when it succeeds. Any other error is rethrown, so a test that expects a typed refusal
 * fails loudly on a crash.
 *
 * @example
 * ```ts
 * expect(codeOf(() => SpiffeId.parse('spiffe://example.org/a/'))).toBe('ERR_SPIFFE_ID_PATH_TRAILING_SLASH')
 * expect(await codeOf(() => verifier.verifyCaller(credentials))).toBe('ERR_CREDENTIALS_MISSING')
 * ```
 */
export function codeOf(fn: () => Promise<unknown>): Promise<string>
export function codeOf(fn: () => unknown): string
export function codeOf(fn: () => unknown): string | Promise<string> {
  let value: unknown
  try {
    value = fn()
  } catch (err) {
    return codeOfError(err)
  }
  if (value instanceof Promise) return value.then(() => 'OK', codeOfError)
  return 'OK'
}

function codeOfError(err: unknown): string {
  if (err instanceof SvidkitError) return err.code
  throw err
}
