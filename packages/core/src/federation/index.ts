/**
 * SPIFFE Federation (SPIFFE Federation §4–§6): fetch a federated trust domain's bundle from its
 * bundle endpoint with either profile (`https_web`, `https_spiffe`), keep several federated bundles
 * fresh with {@link FederatedBundleSource}, and serve your own trust domain's bundle with
 * {@link createBundleEndpointHandler} / {@link createBundleEndpointServer}. Every relationship names
 * its trust domain, URL and profile explicitly; bundles of different trust domains are never merged.
 *
 * @example
 * ```ts
 * import { FederatedBundleSource } from '@svidkit/core/federation'
 * await using federated = await FederatedBundleSource.create({
 *   endpoints: [{ trustDomain: 'partner.example', url: 'https://partner.example/bundle', profile: 'https_web' }],
 * })
 * ```
 * @module
 */
export type {
  BundleEndpointHandler,
  BundleEndpointHandlerOptions,
  BundleEndpointSource,
  SpiffeBundleSource,
} from './create-bundle-endpoint-handler.js'
export { createBundleEndpointHandler } from './create-bundle-endpoint-handler.js'
export type { BundleEndpointServer, BundleEndpointServerOptions } from './create-bundle-endpoint-server.js'
export { createBundleEndpointServer } from './create-bundle-endpoint-server.js'
export type {
  FederatedBundleSourceOptions,
  FederationEndpoint,
  FederationEndpointStatus,
} from './federated-bundle-source.js'
export { FederatedBundleSource } from './federated-bundle-source.js'
export type { FetchBundleOptions } from './fetch-bundle.js'
export { fetchBundle } from './fetch-bundle.js'
export type { BundleEndpointOptions, BundleEndpointProfile, CaInput } from './resolve-endpoint.js'
