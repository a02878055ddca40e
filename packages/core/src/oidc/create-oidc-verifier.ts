import { readScopes } from '../caller/read-scopes.js'
import { OidcError, OptionsError } from '../errors/domain-errors.js'
import type { ErrorCode } from '../errors/status-table.js'
import { deepFreeze, immutableDate } from '../internal/freeze.js'
import {
  checkAlgorithm,
  checkCritical,
  decodeJsonSegment,
  JWS_ALGORITHMS,
  type JwsAlgorithm,
  type JwsErrorFactory,
  type JwsFailure,
  own,
  prepareVerifyKey,
  readKeyId,
  splitCompactJws,
  verifyJwsSignature,
} from '../internal/jws.js'
import { checkTimes, matchAudience, readAudienceClaim, readTimeClaims } from '../internal/jwt-claims.js'
import {
  normalizeAudienceOption,
  normalizeIntegerOption,
  normalizeSkewOption,
  resolveAt,
} from '../internal/options.js'
import { getJson, RemoteJwks, type RemoteJwksSettings } from './remote-jwks.js'

/**
 * One trusted OIDC issuer: where its keys are and what its tokens must say.
 *
 * @example
 * ```ts
 * const google: OidcIssuerOptions = { issuer: 'https://accounts.google.com', audience: 'orders', requiredClaims: ['azp'] }
 * const k8s: OidcIssuerOptions = {
 *   issuer: 'https://kubernetes.default.svc', jwksUri: 'https://kubernetes.default.svc/openid/v1/jwks', audience: 'orders', ca: clusterCaPem,
 * }
 * const oidc = createOidcVerifier([google, k8s])
 * ```
 */
export interface OidcIssuerOptions {
  /** The exact `iss` value, e.g. `https://accounts.google.com` or a Kubernetes API server issuer URL. */
  issuer: string
  /** The JWKS URL. Without it, OIDC discovery (`<issuer>/.well-known/openid-configuration`) finds it. */
  jwksUri?: string
  /** Accepted audiences (any of them). Required: a token for another service must never pass. */
  audience: string | readonly string[]
  /** Accepted algorithms. Default `['RS256', 'ES256']`. Only RS/PS/ES 256/384/512 can be listed. */
  algorithms?: readonly string[]
  /** Leeway on `exp`/`nbf`/`iat`, in seconds. Default 60. */
  clockSkewSeconds?: number
  /** Claims that must be present (e.g. `['azp']`). `sub` and `exp` are always required. */
  requiredClaims?: readonly string[]
  /** Extra CA certificates (PEM) trusted for the issuer's HTTPS endpoints, in addition to Node's root store. */
  ca?: string | readonly string[]
  /** JWKS / discovery fetch timeout; a timeout fails closed. Default 5000 ms. */
  timeoutMs?: number
  /** Minimum time between refetches caused by an unknown `kid`. Default 30 000 ms. */
  cooldownMs?: number
  /** How long a fetched JWKS is used before it is refetched. Default 600 000 ms. */
  cacheMaxAgeMs?: number
  /** Opt-in: serve a stale JWKS for this long past `cacheMaxAgeMs` when a refetch fails. Default 0 (fail closed). */
  staleIfErrorMs?: number
  /** Largest accepted token, in bytes. Default 16 384. */
  maxTokenBytes?: number
}

/**
 * A verified OIDC token.
 *
 * @example
 * ```ts
 * const verified: OidcToken = await oidc.verify(token)
 * verified.principal // { iss: 'https://accounts.google.com', sub: '1234567890' }
 * verified.scopes // from `scope` or `scp`, e.g. ['orders:read']
 * ```
 */
export interface OidcToken {
  /** The principal: the pair `{ iss, sub }`, never a joined string. */
  readonly principal: { readonly iss: string; readonly sub: string }
  readonly audience: readonly string[]
  readonly expiresAt: Date
  /** Scopes from `scope` or `scp`. */
  readonly scopes: readonly string[]
  /** Every claim, frozen. */
  readonly claims: Readonly<Record<string, unknown>>
}

/**
 * Verifies tokens from a fixed set of OIDC issuers.
 *
 * @example
 * ```ts
 * const oidc: OidcVerifier = createOidcVerifier([{ issuer: 'https://accounts.google.com', audience: 'orders' }])
 * oidc.hasIssuer('https://accounts.google.com') // true
 * const { principal } = await oidc.verify(token)
 * ```
 */
export interface OidcVerifier {
  /** Whether `iss` is one of the configured issuers. */
  hasIssuer(iss: string): boolean
  /** Verifies a compact JWT from one of the issuers. Throws `OidcError`. */
  verify(token: string, options?: { at?: Date }): Promise<OidcToken>
}

const CODES: Record<JwsFailure, ErrorCode> = {
  malformed: 'ERR_OIDC_MALFORMED',
  too_large: 'ERR_OIDC_MALFORMED',
  alg: 'ERR_OIDC_ALG_NOT_ALLOWED',
  typ: 'ERR_OIDC_MALFORMED',
  crit: 'ERR_OIDC_MALFORMED',
  kid: 'ERR_OIDC_MALFORMED',
  aud_missing: 'ERR_OIDC_AUDIENCE_MISMATCH',
  aud_mismatch: 'ERR_OIDC_AUDIENCE_MISMATCH',
  exp_missing: 'ERR_OIDC_CLAIM_INVALID',
  expired: 'ERR_OIDC_EXPIRED',
  not_yet_valid: 'ERR_OIDC_NOT_YET_VALID',
  issued_in_future: 'ERR_OIDC_NOT_YET_VALID',
  claim: 'ERR_OIDC_CLAIM_INVALID',
  key_alg: 'ERR_OIDC_ALG_NOT_ALLOWED',
  signature: 'ERR_OIDC_SIGNATURE_INVALID',
}

const fail: JwsErrorFactory = (failure, reason, cause) =>
  new OidcError(CODES[failure], reason, cause === undefined ? {} : { cause })

interface CompiledIssuer {
  readonly issuer: string
  readonly audience: readonly string[]
  readonly algorithms: ReadonlyMap<string, JwsAlgorithm>
  readonly skewMs: number
  readonly requiredClaims: readonly string[]
  readonly maxTokenBytes: number
  readonly jwks: RemoteJwks
}

function httpsUrl(value: string, what: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new OptionsError('ERR_OPTIONS_INVALID', `oidc: ${what} "${value}" is not a URL`)
  }
  if (url.protocol !== 'https:' || url.username || url.password) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `oidc: ${what} must be an https URL without credentials`)
  }
  return url
}

function compileIssuer(o: OidcIssuerOptions): CompiledIssuer {
  if (typeof o !== 'object' || o === null || typeof o.issuer !== 'string' || o.issuer === '') {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'oidc: every issuer needs an "issuer" string')
  }
  const algs = o.algorithms ?? ['RS256', 'ES256']
  const algorithms = new Map<string, JwsAlgorithm>()
  for (const a of algs) {
    const found = JWS_ALGORITHMS.get(a)
    if (!found) throw new OptionsError('ERR_OPTIONS_INVALID', `oidc: algorithm "${a}" is not allowed`)
    algorithms.set(a, found)
  }
  if (algorithms.size === 0) throw new OptionsError('ERR_OPTIONS_INVALID', 'oidc: algorithms cannot be empty')
  const settings: RemoteJwksSettings = {
    ca: o.ca,
    timeoutMs: normalizeIntegerOption(o.timeoutMs, 5000, 'oidc timeoutMs'),
    cooldownMs: normalizeIntegerOption(o.cooldownMs, 30_000, 'oidc cooldownMs', 0),
    cacheMaxAgeMs: normalizeIntegerOption(o.cacheMaxAgeMs, 600_000, 'oidc cacheMaxAgeMs'),
    staleIfErrorMs: normalizeIntegerOption(o.staleIfErrorMs, 0, 'oidc staleIfErrorMs', 0),
    maxResponseBytes: 1 << 20,
  }
  let resolveUrl: () => Promise<URL>
  if (o.jwksUri !== undefined) {
    const url = httpsUrl(o.jwksUri, 'jwksUri')
    resolveUrl = async () => url
  } else {
    const discovery = httpsUrl(`${o.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, 'issuer')
    resolveUrl = async () => {
      const doc = (await getJson(discovery, settings)) as Record<string, unknown>
      // OIDC Discovery §4.3: the document's issuer must be exactly the configured one.
      if (doc?.issuer !== o.issuer) {
        throw new OidcError('ERR_OIDC_JWKS_UNAVAILABLE', 'discovery document names another issuer')
      }
      if (typeof doc.jwks_uri !== 'string') {
        throw new OidcError('ERR_OIDC_JWKS_UNAVAILABLE', 'discovery document has no jwks_uri')
      }
      // What the issuer publishes is not an option of ours: a bad jwks_uri is the issuer's failure.
      try {
        return httpsUrl(doc.jwks_uri, 'jwks_uri')
      } catch (err) {
        throw new OidcError(
          'ERR_OIDC_JWKS_UNAVAILABLE',
          'discovery document names a jwks_uri that is not an https URL without credentials',
          { cause: err },
        )
      }
    }
  }
  return {
    issuer: o.issuer,
    audience: normalizeAudienceOption(o.audience, 'oidc audience'),
    algorithms,
    skewMs: normalizeSkewOption(o.clockSkewSeconds, 60, 'oidc clockSkewSeconds'),
    requiredClaims: [...(o.requiredClaims ?? [])],
    maxTokenBytes: normalizeIntegerOption(o.maxTokenBytes, 16_384, 'oidc maxTokenBytes'),
    jwks: new RemoteJwks(resolveUrl, settings),
  }
}

/**
 * Verifies tokens from configured OIDC issuers (the cloud-IAM pattern: a GCP service-account ID
 * token, a Kubernetes projected service-account token, an Entra or AWS workload token, or a user's
 * access token). Keys come from the issuer's JWKS URL or OIDC discovery, cached with a cooldown on
 * unknown `kid` and opt-in stale-if-error; a fetch timeout fails closed (`ERR_OIDC_JWKS_UNAVAILABLE`,
 * HTTP 503). Checks: `alg` against the issuer's allowlist first, `iss` exactly, `aud` (any of the
 * configured), `exp` (required), `nbf`, `iat`, with leeway, `sub` present.
 *
 * The principal is `{ iss, sub }`. These tokens never mix with JWT-SVIDs: the key sets are separate
 * (the issuer's JWKS here, SPIFFE bundles there), and `verifyCaller` routes a bearer token here only
 * when its `iss` is a configured issuer.
 *
 * @example
 * ```ts
 * import { createOidcVerifier } from '@svidkit/core/oidc'
 * const oidc = createOidcVerifier([{ issuer: 'https://kubernetes.default.svc', audience: 'orders' }])
 * const { principal, scopes } = await oidc.verify(token)
 * ```
 */
export function createOidcVerifier(issuers: readonly OidcIssuerOptions[]): OidcVerifier {
  if (!Array.isArray(issuers) || issuers.length === 0) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'oidc: at least one issuer is required')
  }
  const byIssuer = new Map<string, CompiledIssuer>()
  for (const o of issuers) {
    const c = compileIssuer(o)
    if (byIssuer.has(c.issuer))
      throw new OptionsError('ERR_OPTIONS_INVALID', `oidc: issuer "${c.issuer}" is listed twice`)
    byIssuer.set(c.issuer, c)
  }
  return {
    hasIssuer: (iss) => byIssuer.has(iss),
    async verify(token, options = {}) {
      const now = resolveAt(options.at)
      const jws = splitCompactJws(token, 65_536, fail)
      const header = decodeJsonSegment(jws.token, 0, jws.dot1, 'header', fail)
      const claims = decodeJsonSegment(jws.token, jws.dot1 + 1, jws.dot2, 'payload', fail)
      const iss = own(claims, 'iss')
      const issuer = typeof iss === 'string' ? byIssuer.get(iss) : undefined
      if (issuer === undefined)
        throw new OidcError('ERR_OIDC_ISSUER_UNKNOWN', 'token issuer is not a configured OIDC issuer')
      if (token.length > issuer.maxTokenBytes)
        throw fail('too_large', `token is larger than ${issuer.maxTokenBytes} bytes`)
      const alg = checkAlgorithm(header, fail, issuer.algorithms)
      checkCritical(header, fail)
      const kid = readKeyId(header, fail)
      const remote = await issuer.jwks.getKey(kid)
      if (remote.alg !== undefined && remote.alg !== alg.name) {
        throw fail('key_alg', `key "${kid.slice(0, 64)}" is for ${remote.alg}, not ${alg.name}`)
      }
      verifyJwsSignature(jws, prepareVerifyKey(remote.key, alg, fail), fail)
      const times = readTimeClaims(claims, true, fail)
      checkTimes(times, now, issuer.skewMs, fail)
      matchAudience(readAudienceClaim(claims, fail), issuer.audience, fail)
      const sub = own(claims, 'sub')
      if (typeof sub !== 'string' || sub === '') throw fail('claim', 'token missing subject claim')
      for (const name of issuer.requiredClaims) {
        if (own(claims, name) === undefined) throw fail('claim', `token missing required claim "${name}"`)
      }
      const frozen = deepFreeze(claims)
      return Object.freeze({
        principal: Object.freeze({ iss: issuer.issuer, sub }),
        audience: readAudienceClaim(claims, fail),
        expiresAt: immutableDate(times.expMs!),
        scopes: readScopes(frozen),
        claims: frozen,
      })
    },
  }
}
