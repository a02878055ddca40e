import { SvidkitError } from './svidkit-error.js'

/**
 * Normalises anything thrown into a {@link SvidkitError}. Svidkit errors pass through; anything else
 * becomes `ERR_INTERNAL` with the original kept as `cause` (its message is not copied, so a foreign
 * error can never leak a token into a response).
 *
 * @example
 * ```ts
 * const err = toSvidkitError(new Error('boom'))
 * err.code // 'ERR_INTERNAL'
 * ```
 */
export function toSvidkitError(value: unknown): SvidkitError {
  if (value instanceof SvidkitError) return value
  return new SvidkitError('ERR_INTERNAL', 'unexpected internal error', { cause: value })
}
