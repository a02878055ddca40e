import { BundleError } from '../errors/domain-errors.js'
import {
  isJsonObject,
  parseJsonStrict,
  type StrictJson,
  StrictJsonError,
} from '../internal/parse-json-strict.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'
import { BundleSet } from './bundle-set.js'
import { SpiffeBundle } from './spiffe-bundle.js'

/**
 * Parses a SPIFFE bundle map (Trust Domain and Bundle §5): `{"trust_domains": {"<td>": <bundle>, …}}`.
 * Duplicate trust domain keys are rejected (§5.1.1), and the whole map is loaded atomically: any bad
 * bundle fails the whole map.
 *
 * @example
 * ```ts
 * import { parseBundleMap } from '@svidkit/core/bundle'
 * const set = parseBundleMap(readFileSync('bundles.json', 'utf8'))
 * set.trustDomains().map(String) // ['a.test', 'b.test']
 * ```
 */
export function parseBundleMap(json: string | Uint8Array): BundleSet {
  const text = typeof json === 'string' ? json : Buffer.from(json).toString('utf8')
  let doc: StrictJson
  try {
    doc = parseJsonStrict(text)
  } catch (cause) {
    if (cause instanceof StrictJsonError && cause.kind === 'duplicate') {
      throw new BundleError('ERR_BUNDLE_DUPLICATE_KEY', `bundle map has a duplicate key (${cause.message})`, {
        cause,
      })
    }
    throw new BundleError('ERR_BUNDLE_MALFORMED', 'bundle map is not valid JSON', { cause })
  }
  return bundleMapFromDocument(doc)
}

/** @internal */
export function bundleMapFromDocument(doc: StrictJson): BundleSet {
  if (!isJsonObject(doc) || !isJsonObject(doc.trust_domains)) {
    throw new BundleError(
      'ERR_BUNDLE_MALFORMED',
      'bundle map must be an object with a "trust_domains" object',
    )
  }
  const set = new BundleSet()
  for (const [name, bundle] of Object.entries(doc.trust_domains)) {
    let td: TrustDomain
    try {
      td = TrustDomain.parse(name)
    } catch (cause) {
      throw new BundleError(
        'ERR_BUNDLE_MALFORMED',
        `bundle map key "${name.slice(0, 100)}" is not a trust domain name`,
        {
          cause,
        },
      )
    }
    if (set.has(td))
      throw new BundleError('ERR_BUNDLE_DUPLICATE_KEY', `bundle map names trust domain "${td}" twice`)
    set.add(SpiffeBundle.fromDocument(td, bundle))
  }
  return set
}

/**
 * Writes a bundle map document for every trust domain of a set. Refresh hints are omitted, as §5
 * recommends for producers.
 *
 * @example
 * ```ts
 * writeFileSync('bundles.json', marshalBundleMap(set))
 * ```
 */
export function marshalBundleMap(set: BundleSet): string {
  const parts: string[] = []
  for (const bundle of set) {
    const plain = new SpiffeBundle(bundle.trustDomain, {
      x509Authorities: bundle.x509Authorities,
      jwtAuthorities: bundle.jwtAuthorities.values(),
      sequenceNumber: bundle.sequenceNumber,
    })
    parts.push(`${JSON.stringify(bundle.trustDomain.name)}:${plain.toJson()}`)
  }
  return `{"trust_domains":{${parts.join(',')}}}`
}
