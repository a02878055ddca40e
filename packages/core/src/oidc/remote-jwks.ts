// Fetches and caches an issuer's JWKS (and OIDC discovery document) over HTTPS. Not exported.
import { createPublicKey, type KeyObject } from 'node:crypto'
import { request } from 'node:https'
import { rootCertificates } from 'node:tls'
import { OidcError } from '../errors/domain-errors.js'

/** How the remote JWKS is fetched and cached. */
export interface RemoteJwksSettings {
  /** Extra trusted CAs (PEM) for the issuer's HTTPS endpoints, in addition to the system roots. */
  readonly ca: string | readonly string[] | undefined
  readonly timeoutMs: number
  readonly cooldownMs: number
  readonly cacheMaxAgeMs: number
  /** How long past `cacheMaxAgeMs` a stale JWKS may still be used when a refresh fails; 0 = never. */
  readonly staleIfErrorMs: number
  readonly maxResponseBytes: number
}

export interface RemoteKey {
  readonly key: KeyObject
  readonly alg: string | undefined
}

const unavailable = (reason: string, cause?: unknown): OidcError =>
  new OidcError('ERR_OIDC_JWKS_UNAVAILABLE', reason, cause === undefined ? {} : { cause })

/** GETs a JSON document over HTTPS; fails closed on timeout, non-200, oversize or bad JSON. */
export function getJson(url: URL, settings: RemoteJwksSettings): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/json' },
        // Node's `ca` replaces its root store: keep the roots and add the configured CAs.
        ...(settings.ca === undefined
          ? {}
          : {
              ca: [...rootCertificates, ...(typeof settings.ca === 'string' ? [settings.ca] : settings.ca)],
            }),
        signal: AbortSignal.timeout(settings.timeoutMs),
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          reject(unavailable(`${url.origin}${url.pathname} answered HTTP ${res.statusCode}`))
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          size += c.length
          if (size > settings.maxResponseBytes) {
            req.destroy()
            reject(
              unavailable(
                `${url.origin}${url.pathname} response is larger than ${settings.maxResponseBytes} bytes`,
              ),
            )
          } else chunks.push(c)
        })
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
          } catch (cause) {
            reject(unavailable(`${url.origin}${url.pathname} did not return JSON`, cause))
          }
        })
        res.on('error', (cause) => reject(unavailable(`reading ${url.origin}${url.pathname} failed`, cause)))
      },
    )
    req.on('error', (cause) => {
      const timedOut = (cause as Error).name === 'AbortError' || (cause as Error).name === 'TimeoutError'
      reject(
        unavailable(
          timedOut
            ? `fetching ${url.origin}${url.pathname} timed out after ${settings.timeoutMs} ms`
            : `fetching ${url.origin}${url.pathname} failed`,
          cause,
        ),
      )
    })
    req.end()
  })
}

function parseJwks(doc: unknown, url: URL): Map<string, RemoteKey> {
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw unavailable(`${url.origin}${url.pathname} is not a JWKS`)
  }
  const keys = new Map<string, RemoteKey>()
  for (const jwk of (doc as { keys: unknown[] }).keys) {
    if (typeof jwk !== 'object' || jwk === null) continue
    const j = jwk as Record<string, unknown>
    if (typeof j.kid !== 'string' || j.kid === '') continue
    if (j.use !== undefined && j.use !== 'sig') continue
    if (j.kty !== 'RSA' && j.kty !== 'EC') continue
    if (Array.isArray(j.key_ops) && !j.key_ops.includes('verify')) continue
    try {
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = j
      keys.set(j.kid, {
        key: createPublicKey({ key: pub as never, format: 'jwk' }),
        alg: typeof j.alg === 'string' ? j.alg : undefined,
      })
    } catch {
      // An unusable key is skipped; a token naming it fails with "key not found".
    }
  }
  return keys
}

/**
 * A cached remote JWKS with jose/Auth0-like semantics: refetch when older than `cacheMaxAgeMs`;
 * on an unknown `kid`, refetch at most once per `cooldownMs`; concurrent refreshes share one
 * request; a failed refresh fails closed unless the cached set is within `staleIfErrorMs`.
 */
export class RemoteJwks {
  readonly #resolveUrl: () => Promise<URL>
  readonly #settings: RemoteJwksSettings
  #keys: Map<string, RemoteKey> | undefined
  #fetchedAt = 0
  #inflight: Promise<void> | undefined

  constructor(resolveUrl: () => Promise<URL>, settings: RemoteJwksSettings) {
    this.#resolveUrl = resolveUrl
    this.#settings = settings
  }

  async #refresh(): Promise<void> {
    this.#inflight ??= (async () => {
      try {
        const url = await this.#resolveUrl()
        this.#keys = parseJwks(await getJson(url, this.#settings), url)
        this.#fetchedAt = Date.now()
      } finally {
        this.#inflight = undefined
      }
    })()
    return this.#inflight
  }

  /** The key for `kid`, refreshing as the cache rules say. Throws OidcError. */
  async getKey(kid: string): Promise<RemoteKey> {
    const s = this.#settings
    const age = Date.now() - this.#fetchedAt
    if (this.#keys === undefined || age >= s.cacheMaxAgeMs) {
      try {
        await this.#refresh()
      } catch (err) {
        const usable =
          this.#keys !== undefined && s.staleIfErrorMs > 0 && age < s.cacheMaxAgeMs + s.staleIfErrorMs
        if (!usable) throw err
      }
    }
    let found = this.#keys?.get(kid)
    if (found === undefined && Date.now() - this.#fetchedAt >= s.cooldownMs) {
      await this.#refresh()
      found = this.#keys?.get(kid)
    }
    if (found === undefined)
      throw new OidcError('ERR_OIDC_KEY_NOT_FOUND', `no key "${kid.slice(0, 64)}" in the issuer's JWKS`)
    return found
  }
}
