import { optionsFailure } from '../internal/options.js'
import type { CallerVerifier, CallerVerifierOptions } from '../pipeline/caller-verifier.js'
import { createCallerVerifier } from '../pipeline/create-caller-verifier.js'

/**
 * What adapters accept: a ready {@link CallerVerifier} (to share one between several middlewares or
 * servers), or the options to build one.
 *
 * @example
 * ```ts
 * const a: CallerVerifierInput = { bundles, jwt: { audience: 'orders' } }
 * const b: CallerVerifierInput = { verifier: createCallerVerifier(a) }
 * ```
 */
export type CallerVerifierInput = CallerVerifierOptions | { readonly verifier: CallerVerifier }

/**
 * Defaults an adapter applies when it builds the verifier (never to a ready one).
 *
 * @example
 * ```ts
 * const defaults: CallerVerifierDefaults = { audit: { logger: app.log } }
 * const verifier = callerVerifierFrom({ bundles, jwt: { audience: 'orders' } }, defaults, '@svidkit/fastify')
 * ```
 */
export interface CallerVerifierDefaults {
  /** Used when the options leave `audit` undefined, e.g. `{ logger: fastify.log }`. */
  audit?: CallerVerifierOptions['audit']
}

/**
 * The verifier of an adapter's options: the `verifier` given (checked to be one, and alone), or
 * `createCallerVerifier(options)` with the adapter's defaults. Pass the options *without* the
 * adapter's own keys. `what` names the caller in error messages.
 *
 * @throws OptionsError `ERR_OPTIONS_INVALID`: not a verifier, a verifier together with verifier
 * options, or any error of `createCallerVerifier`.
 * @example
 * ```ts
 * const { realm, errorBody, ...rest } = options
 * const verifier = callerVerifierFrom(rest, { audit: { logger: fastify.log } }, '@svidkit/fastify')
 * ```
 */
export function callerVerifierFrom(
  input: CallerVerifierInput,
  defaults: CallerVerifierDefaults = {},
  what = 'callerVerifierFrom',
): CallerVerifier {
  const bad = optionsFailure(`${what}`)
  if (typeof input !== 'object' || input === null) bad('options must be an object')
  if ('verifier' in input) {
    const { verifier, ...others } = input
    if (
      typeof verifier !== 'object' ||
      verifier === null ||
      typeof verifier.verifyCaller !== 'function' ||
      typeof verifier.authorizeCaller !== 'function' ||
      !Array.isArray(verifier.identityTemplates)
    ) {
      bad('"verifier" must be a CallerVerifier (from createCallerVerifier)')
    }
    if (Object.keys(others).length > 0) bad('pass either "verifier" or the options to build one, not both')
    return verifier
  }
  const options = input as CallerVerifierOptions
  return createCallerVerifier(
    options.audit === undefined && defaults.audit !== undefined
      ? { ...options, audit: defaults.audit }
      : options,
  )
}
