/**
 * Trust bundles: the X.509 authorities and JWT keys of trust domains, in every format SPIFFE uses
 * (PEM, concatenated DER, JWKS, the SPIFFE bundle format and bundle maps), and the one-method source
 * interfaces verifiers depend on.
 *
 * @example
 * ```ts
 * import { BundleSet, SpiffeBundle, parseBundleMap } from '@svidkit/core/bundle'
 * const set = new BundleSet([SpiffeBundle.parse('example.org', json)])
 * ```
 * @module
 */

export { marshalBundleMap, parseBundleMap } from './bundle-map.js'
export type { AnyBundle } from './bundle-set.js'
export { BundleSet } from './bundle-set.js'
export type { JwtBundleSource, X509BundleSource } from './bundle-source.js'
export { combineBundleSources } from './combine-bundle-sources.js'
export type { JwtAuthority } from './jwt-authority.js'
export { createJwtAuthority } from './jwt-authority.js'
export { JwtBundle } from './jwt-bundle.js'
export type { BundleDocumentFormat } from './parse-bundle-document.js'
export { parseBundleDocument } from './parse-bundle-document.js'
export type { SpiffeBundleInit } from './spiffe-bundle.js'
export { SpiffeBundle } from './spiffe-bundle.js'
export { X509Bundle } from './x509-bundle.js'
