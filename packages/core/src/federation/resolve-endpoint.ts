// Validation of a federation relationship (SPIFFE Federation §5): the endpoint URL, the profile and
// the trust domain are all explicit, and none is inferred from another. Not exported from the package.
import { FederationError, OptionsError } from '../errors/domain-errors.js'
import { SpiffeId } from '../spiffe-id/spiffe-id.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'

/**
 * The two bundle endpoint profiles of SPIFFE Federation §5.2.
 *
 * @example
 * ```ts
 * const profile: BundleEndpointProfile = 'https_spiffe'
 * ```
 */
export type BundleEndpointProfile = 'https_web' | 'https_spiffe'

/**
 * PEM CA certificates (one document, or several).
 *
 * @example
 * ```ts
 * const ca: CaInput = readFileSync('/etc/ssl/partner-roots.pem')
 * ```
 */
export type CaInput = string | Buffer | readonly (string | Buffer)[]

/**
 * One federation relationship: where to fetch which trust domain's bundle, and how to authenticate
 * the server. All three of trust domain, URL and profile are required (Federation §5.1).
 *
 * @example
 * ```ts
 * const relationship: BundleEndpointOptions = {
 *   trustDomain: 'partner.example',
 *   url: 'https://partner.example/bundle.json',
 *   profile: 'https_web',
 * }
 * ```
 */
export interface BundleEndpointOptions {
  /** The trust domain whose bundle the endpoint serves. Never inferred from the URL. */
  trustDomain: TrustDomain | string
  /** The bundle endpoint URL: `https`, no userinfo (Federation §5.2.1.1, §5.2.2.1). */
  url: string | URL
  /** `https_web`: Web PKI server authentication (RFC 6125); `https_spiffe`: the server presents an X509-SVID. */
  profile: BundleEndpointProfile
  /** `https_spiffe` only, required: the exact SPIFFE ID the server's X509-SVID must carry. */
  endpointSpiffeId?: SpiffeId | string | undefined
  /** `https_web` only: PEM root CAs to trust instead of Node's bundled Web PKI roots. */
  ca?: CaInput | undefined
  /** Deadline for one fetch, redirects included, in ms. Default 10 000. */
  timeoutMs?: number | undefined
  /** Largest accepted response body, in bytes. Default 1 MiB. */
  maxResponseBytes?: number | undefined
  /** Redirects followed per fetch (each checked like the original URL and never stored). Default 5. */
  maxRedirects?: number | undefined
}

/** @internal */
export interface ResolvedEndpoint {
  readonly trustDomain: TrustDomain
  readonly url: URL
  readonly profile: BundleEndpointProfile
  readonly endpointId: SpiffeId | undefined
  readonly ca: (string | Buffer)[] | undefined
  readonly timeoutMs: number
  readonly maxResponseBytes: number
  readonly maxRedirects: number
  /** `origin + pathname`, safe for messages (no query, no fragment). */
  readonly label: string
}

const invalid = (why: string, cause?: unknown): FederationError =>
  new FederationError('ERR_FEDERATION_ENDPOINT_INVALID', why, cause === undefined ? {} : { cause })

/**
 * @internal Parses and checks a bundle endpoint URL: `https`, a host, no userinfo (not even an empty
 * `@`). Throws `ERR_FEDERATION_ENDPOINT_INVALID`.
 */
export function checkEndpointUrl(input: string | URL): URL {
  const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined
  if (raw === undefined) throw invalid('endpoint URL must be a string or a URL')
  let url: URL
  try {
    url = new URL(raw)
  } catch (cause) {
    throw invalid('endpoint URL is not a valid URL', cause)
  }
  if (url.protocol !== 'https:')
    throw invalid(`endpoint URL scheme must be "https", not "${url.protocol.slice(0, -1).slice(0, 20)}"`)
  // WHATWG URL drops an empty userinfo (`https://@host/`); the spec forbids any, so look at the raw authority.
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(raw.trim())?.[1] ?? ''
  if (url.username !== '' || url.password !== '' || authority.includes('@')) {
    throw invalid('endpoint URL must not contain userinfo')
  }
  if (url.hostname === '') throw invalid('endpoint URL has no host')
  url.hash = ''
  return url
}

/** @internal */
export function endpointLabel(url: URL): string {
  return `${url.origin}${url.pathname}`
}

/** @internal Validates a relationship eagerly. */
export function resolveEndpoint(options: BundleEndpointOptions): ResolvedEndpoint {
  if (typeof options !== 'object' || options === null) throw invalid('endpoint options must be an object')
  if (options.trustDomain === undefined) throw invalid('"trustDomain" is required; it is never inferred')
  let trustDomain: TrustDomain
  try {
    trustDomain =
      options.trustDomain instanceof TrustDomain
        ? options.trustDomain
        : TrustDomain.parse(options.trustDomain)
  } catch (cause) {
    throw invalid('"trustDomain" is not a trust domain name', cause)
  }
  if (options.url === undefined) throw invalid('"url" is required')
  const url = checkEndpointUrl(options.url)
  const profile = options.profile
  if (profile !== 'https_web' && profile !== 'https_spiffe') {
    throw invalid('"profile" must be "https_web" or "https_spiffe"; it is never inferred')
  }
  let endpointId: SpiffeId | undefined
  if (profile === 'https_spiffe') {
    if (options.endpointSpiffeId === undefined) throw invalid('https_spiffe needs "endpointSpiffeId"')
    try {
      endpointId =
        options.endpointSpiffeId instanceof SpiffeId
          ? options.endpointSpiffeId
          : SpiffeId.parse(options.endpointSpiffeId)
    } catch (cause) {
      throw invalid('"endpointSpiffeId" is not a SPIFFE ID', cause)
    }
    if (options.ca !== undefined) throw invalid('"ca" applies to https_web only')
  } else if (options.endpointSpiffeId !== undefined) {
    throw invalid('"endpointSpiffeId" applies to https_spiffe only')
  }
  let ca: (string | Buffer)[] | undefined
  if (options.ca !== undefined) {
    const list = Array.isArray(options.ca) ? options.ca : [options.ca]
    if (list.length === 0 || !list.every((c) => typeof c === 'string' || Buffer.isBuffer(c))) {
      throw new OptionsError('ERR_OPTIONS_INVALID', '"ca" must be PEM text or a list of PEM documents')
    }
    ca = [...(list as (string | Buffer)[])]
  }
  return Object.freeze({
    trustDomain,
    url,
    profile,
    endpointId,
    ca,
    timeoutMs: positive(options.timeoutMs, 'timeoutMs', 10_000),
    maxResponseBytes: positive(options.maxResponseBytes, 'maxResponseBytes', 1024 * 1024),
    maxRedirects: positive(options.maxRedirects, 'maxRedirects', 5, 0),
    label: endpointLabel(url),
  })
}

function positive(v: number | undefined, name: string, def: number, min = 1): number {
  if (v === undefined) return def
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `"${name}" must be an integer ≥ ${min}`)
  }
  return v
}
