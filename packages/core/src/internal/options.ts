// Option validation shared by every factory of the package: one error shape
// (`OptionsError` `ERR_OPTIONS_INVALID`, "<what>: <reason>") and the common normalizers. Not exported.
import { OptionsError } from '../errors/domain-errors.js'

/**
 * A thrower of option errors for one factory: `const bad = optionsFailure('createCallerVerifier')`,
 * then `bad('"bundles" must be a bundle source')` throws `createCallerVerifier: "bundles" must be …`.
 */
export function optionsFailure(what: string): (reason: string, cause?: unknown) => never {
  return (reason, cause) => {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: ${reason}`, cause === undefined ? {} : { cause })
  }
}

/**
 * Validates an `audience` option (`string | string[]`, non-empty, no empty string) into a frozen
 * array; throws `OptionsError`. An empty expected audience is refused: go-spiffe would skip the check,
 * which is never what a verifier means.
 */
export function normalizeAudienceOption(value: unknown, name = 'audience'): readonly string[] {
  if (typeof value === 'string') {
    if (value.length > 0) return Object.freeze([value])
  } else if (Array.isArray(value) && value.length > 0) {
    if (value.every((v) => typeof v === 'string' && v.length > 0)) return Object.freeze([...value])
  }
  throw new OptionsError(
    'ERR_OPTIONS_INVALID',
    `${name} must be a non-empty string or a non-empty array of non-empty strings`,
  )
}

/** Validates a clock skew option in seconds (finite, ≥ 0) and returns it in ms. */
export function normalizeSkewOption(
  value: unknown,
  fallbackSeconds: number,
  name = 'clockSkewSeconds',
): number {
  if (value === undefined) return fallbackSeconds * 1000
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${name} must be a finite number of seconds ≥ 0`)
  }
  return value * 1000
}

/** Validates a positive integer option (sizes, counts). */
export function normalizeIntegerOption(value: unknown, fallback: number, name: string, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${name} must be an integer ≥ ${min}`)
  }
  return value
}

/** Validates an `at` option and returns its time in ms (default: now). */
export function resolveAt(at: unknown): number {
  if (at === undefined) return Date.now()
  const ms = at instanceof Date ? at.getTime() : Number.NaN
  if (Number.isNaN(ms)) throw new OptionsError('ERR_OPTIONS_INVALID', 'at must be a valid Date')
  return ms
}
