import type { IncomingMessage, ServerResponse } from 'node:http'
import { BundleSet } from '../bundle/bundle-set.js'
import type { JwtBundleSource, X509BundleSource } from '../bundle/bundle-source.js'
import { SpiffeBundle } from '../bundle/spiffe-bundle.js'
import { OptionsError } from '../errors/domain-errors.js'
import { statusTable } from '../errors/status-table.js'
import { SvidkitError } from '../errors/svidkit-error.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'

/**
 * Anything that can give the full SPIFFE bundle of a trust domain, with its refresh hint and
 * sequence number (go-spiffe `spiffebundle.Source`): `StaticSource`, `FileSource`,
 * `FederatedBundleSource`, or your own.
 *
 * @example
 * ```ts
 * const source: SpiffeBundleSource = { getSpiffeBundleForTrustDomain: (td) => bundles.get(td.name) }
 * ```
 */
export interface SpiffeBundleSource {
  getSpiffeBundleForTrustDomain(trustDomain: TrustDomain): SpiffeBundle | undefined
}

/**
 * What a bundle endpoint can serve from: a {@link SpiffeBundleSource}, a `BundleSet`, a
 * `SpiffeBundle`, or any X.509 / JWT bundle source (their parts are joined; a source with only X.509
 * bundles serves only `x509-svid` keys).
 *
 * @example
 * ```ts
 * const source: BundleEndpointSource = new BundleSet([SpiffeBundle.parse('example.org', json)])
 * ```
 */
export type BundleEndpointSource = SpiffeBundleSource | X509BundleSource | JwtBundleSource

/**
 * Options for {@link createBundleEndpointHandler}.
 *
 * @example
 * ```ts
 * const options: BundleEndpointHandlerOptions = { trustDomain: 'example.org', source: x509Source }
 * ```
 */
export interface BundleEndpointHandlerOptions {
  /** The trust domain whose bundle is served. */
  trustDomain: TrustDomain | string
  /** Where the current bundle is read from, on every request. */
  source: BundleEndpointSource
}

/**
 * A `node:http` / `node:https` request listener (also usable as Express or Connect middleware).
 *
 * @example
 * ```ts
 * const handler: BundleEndpointHandler = createBundleEndpointHandler({ trustDomain: 'example.org', source })
 * app.get('/bundle', handler)
 * ```
 */
export type BundleEndpointHandler = (req: IncomingMessage, res: ServerResponse) => void

/**
 * A request handler that serves a trust domain's SPIFFE bundle (SPIFFE Federation §4), like
 * go-spiffe's `federation.NewHandler`: `GET` answers `200` with `Content-Type: application/json` and
 * the bundle document (keys, `spiffe_refresh_hint`, `spiffe_sequence`); any other method answers
 * `405` with `Allow: GET`; a missing bundle answers `500` (`503` when the source is not ready or
 * closed). The bundle is read from `source` on every request, so rotations are served at once.
 * It does not authenticate clients (Federation §5.2.x.3 forbids requiring it) and ignores the path.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:https'
 * import { createBundleEndpointHandler } from '@svidkit/core/federation'
 *
 * const handler = createBundleEndpointHandler({ trustDomain: 'example.org', source: x509Source })
 * createServer({ key, cert }, handler).listen(8443)
 * ```
 */
export function createBundleEndpointHandler(options: BundleEndpointHandlerOptions): BundleEndpointHandler {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('ERR_OPTIONS_INVALID', 'bundle endpoint handler options must be an object')
  }
  let trustDomain: TrustDomain
  try {
    trustDomain =
      options.trustDomain instanceof TrustDomain
        ? options.trustDomain
        : TrustDomain.parse(options.trustDomain)
  } catch (cause) {
    throw new OptionsError('ERR_OPTIONS_INVALID', '"trustDomain" is not a trust domain name', { cause })
  }
  const source = options.source
  const lookup = bundleLookup(source)
  const cache = new WeakMap<SpiffeBundle, string>()
  return (req, res) => {
    if (req.method !== 'GET') {
      send(res, 405, 'method not allowed\n', { allow: 'GET' })
      return
    }
    let bundle: SpiffeBundle | undefined
    try {
      bundle = lookup(trustDomain)
    } catch (err) {
      // Not ready / closed / unavailable (503 in the status table) is temporary; anything else is a 500.
      const status = err instanceof SvidkitError && statusTable[err.code]?.http === 503 ? 503 : 500
      send(res, status, `unable to serve bundle for "${trustDomain}"\n`)
      return
    }
    if (!bundle) {
      send(res, 500, `unable to serve bundle for "${trustDomain}"\n`)
      return
    }
    let body = cache.get(bundle)
    if (body === undefined) {
      body = bundle.toJson()
      cache.set(bundle, body)
    }
    send(res, 200, body, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  }
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const buf = Buffer.from(body, 'utf8')
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    ...headers,
    'content-length': String(buf.length),
  })
  res.end(buf)
}

/** @internal Turns any accepted source into a `td → SpiffeBundle` lookup. */
export function bundleLookup(source: BundleEndpointSource): (td: TrustDomain) => SpiffeBundle | undefined {
  if (source instanceof SpiffeBundle) return (td) => (source.trustDomain.equals(td) ? source : undefined)
  if (source instanceof BundleSet) return (td) => source.getSpiffeBundle(td)
  if (!source || typeof source !== 'object') {
    throw new OptionsError('ERR_OPTIONS_INVALID', '"source" must be a bundle source')
  }
  const s = source as Partial<SpiffeBundleSource & X509BundleSource & JwtBundleSource>
  if (typeof s.getSpiffeBundleForTrustDomain === 'function') {
    return (td) => s.getSpiffeBundleForTrustDomain!(td)
  }
  const x509 =
    typeof s.getX509BundleForTrustDomain === 'function' ? s.getX509BundleForTrustDomain.bind(s) : undefined
  const jwt =
    typeof s.getJwtBundleForTrustDomain === 'function' ? s.getJwtBundleForTrustDomain.bind(s) : undefined
  if (!x509 && !jwt) throw new OptionsError('ERR_OPTIONS_INVALID', '"source" must be a bundle source')
  return (td) => {
    const x = x509?.(td)
    const j = jwt?.(td)
    if (!x && !j) return undefined
    return SpiffeBundle.from({ ...(x ? { x509: x } : {}), ...(j ? { jwt: j } : {}) })
  }
}
