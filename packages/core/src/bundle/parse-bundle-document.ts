import { BundleError } from '../errors/domain-errors.js'
import {
  isJsonObject,
  parseJsonStrict,
  type StrictJson,
  StrictJsonError,
} from '../internal/parse-json-strict.js'
import type { TrustDomain } from '../spiffe-id/trust-domain.js'
import { bundleMapFromDocument } from './bundle-map.js'
import { BundleSet } from './bundle-set.js'
import { SpiffeBundle } from './spiffe-bundle.js'
import { X509Bundle } from './x509-bundle.js'

/**
 * The formats {@link parseBundleDocument} recognises.
 *
 * @example
 * ```ts
 * const { format } = parseBundleDocument(readFileSync('ca.pem'), { trustDomain: 'example.org' })
 * if (format === 'pem') console.log('X.509 authorities only')
 * ```
 */
export type BundleDocumentFormat = 'bundle-map' | 'spiffe-bundle' | 'pem'

/**
 * Reads any bundle file svidkit understands and returns its bundles as a set, detecting the format:
 * - a bundle map `{"trust_domains": {…}}` (self-describing);
 * - a SPIFFE bundle (a JWKS with `use` = `x509-svid`/`jwt-svid`), which needs `trustDomain`;
 * - PEM CA certificates (X.509 only), which need `trustDomain`.
 *
 * @example
 * ```ts
 * import { parseBundleDocument } from '@svidkit/core/bundle'
 * const { bundles, format } = parseBundleDocument(readFileSync('bundle.json'), { trustDomain: 'example.org' })
 * ```
 */
export function parseBundleDocument(
  content: string | Uint8Array,
  options: { trustDomain?: TrustDomain | string | undefined } = {},
): { format: BundleDocumentFormat; bundles: BundleSet } {
  const text = (typeof content === 'string' ? content : Buffer.from(content).toString('utf8')).replace(
    /^\uFEFF/,
    '',
  )
  const trimmed = text.trimStart()
  const needTd = (what: string): TrustDomain | string => {
    if (options.trustDomain === undefined) {
      throw new BundleError(
        'ERR_BUNDLE_TRUST_DOMAIN_MISMATCH',
        `a ${what} does not name its trust domain; give one`,
      )
    }
    return options.trustDomain
  }
  if (trimmed.startsWith('-----BEGIN')) {
    return { format: 'pem', bundles: new BundleSet([X509Bundle.fromPem(needTd('PEM bundle'), text)]) }
  }
  if (trimmed.length === 0) throw new BundleError('ERR_BUNDLE_MALFORMED', 'bundle document is empty')
  let doc: StrictJson
  try {
    doc = parseJsonStrict(text.trim())
  } catch (cause) {
    if (cause instanceof StrictJsonError && cause.kind === 'duplicate') {
      throw new BundleError(
        'ERR_BUNDLE_DUPLICATE_KEY',
        `bundle document has a duplicate key (${cause.message})`,
        { cause },
      )
    }
    throw new BundleError('ERR_BUNDLE_MALFORMED', 'bundle document is neither PEM nor valid JSON', { cause })
  }
  if (isJsonObject(doc) && 'trust_domains' in doc) {
    const set = bundleMapFromDocument(doc)
    if (options.trustDomain !== undefined && !set.has(options.trustDomain)) {
      throw new BundleError(
        'ERR_BUNDLE_TRUST_DOMAIN_MISMATCH',
        `bundle map has no trust domain "${options.trustDomain}"`,
      )
    }
    return { format: 'bundle-map', bundles: set }
  }
  return {
    format: 'spiffe-bundle',
    bundles: new BundleSet([SpiffeBundle.fromDocument(needTd('SPIFFE bundle'), doc)]),
  }
}
