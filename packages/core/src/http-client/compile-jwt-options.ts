// Validation shared by the JWT-SVID request helpers. Not exported.
import { OptionsError } from '../errors/domain-errors.js'
import type { JwtSvidParams, JwtSvidSource } from '../jwt-svid/jwt-svid.js'
import type { JwtSvidRequestOptions } from './jwt-svid-request-options.js'

export interface CompiledJwtOptions {
  readonly params: JwtSvidParams
  readonly source: JwtSvidSource
  /** Whether a request to `origin` gets the token. */
  readonly allows: (origin: string) => boolean
}

export function compileJwtOptions(options: JwtSvidRequestOptions, what: string): CompiledJwtOptions {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what} options must be an object`)
  }
  const { source, audience, extraAudiences, subject, origins } = options
  if (!source || typeof source.fetchJwtSvid !== 'function') {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "source" must have fetchJwtSvid() (a JwtSource)`)
  }
  if (typeof audience !== 'string' || audience.length === 0) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "audience" must be a non-empty string`)
  }
  if (
    extraAudiences !== undefined &&
    (!Array.isArray(extraAudiences) || extraAudiences.some((a) => typeof a !== 'string' || a === ''))
  ) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "extraAudiences" must be non-empty strings`)
  }
  let allowed: Set<string> | undefined
  if (origins !== undefined) {
    if (!Array.isArray(origins) || origins.length === 0) {
      throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "origins" must be a non-empty array`)
    }
    allowed = new Set(
      origins.map((o) => {
        try {
          return new URL(o).origin
        } catch (cause) {
          throw new OptionsError('ERR_OPTIONS_INVALID', `${what}: "${o}" is not an origin URL`, { cause })
        }
      }),
    )
  }
  const params: JwtSvidParams = {
    audience,
    ...(extraAudiences ? { extraAudiences: [...extraAudiences] } : {}),
    ...(subject !== undefined ? { subject } : {}),
  }
  return {
    params: Object.freeze(params),
    source,
    allows: allowed ? (origin) => allowed.has(origin) : () => true,
  }
}
