/**
 * The SPIFFE Workload API (node only): a `@grpc/grpc-js` client of the five X.509-SVID and JWT-SVID
 * profile RPCs, one-shot helpers for scripts, and the live sources every service should use —
 * {@link X509Source} (own SVID + bundles), {@link JwtSource} (cached JWT-SVIDs + JWT bundles) and
 * {@link BundleSource} (bundles for verifiers without an identity).
 *
 * Wire format exactly as spiffe/go-spiffe's `workload.proto`: service `SpiffeWorkloadAPI` with no
 * package, concatenated DER certificates, PKCS#8 keys, bundle maps keyed by `spiffe://<td>` (a bare
 * `<td>` is accepted too), the `workload.spiffe.io: true` header on every call. Addresses are
 * `unix:///abs/path` or `tcp://IP:port`, from the options or `SPIFFE_ENDPOINT_SOCKET`.

 *
 * Limits and caches: an X.509-SVID chain in a response holds at most 16 certificates (a longer one is a
 * malformed response); a {@link JwtSource} keeps at most `cacheSize` (default **100**) fetched
 * JWT-SVIDs, refreshed at half-life. *
 * @example
 * ```ts
 * import { X509Source, JwtSource, fetchX509Svid } from '@svidkit/core/workload-api'
 * await using x509 = await X509Source.create()               // SPIFFE_ENDPOINT_SOCKET
 * const svid = x509.getX509Svid()
 * const once = await fetchX509Svid({ address: 'unix:///run/spire/agent.sock' })
 * ```
 * @module
 */
export type { WorkloadApiAddress } from './address.js'
export { parseWorkloadApiAddress, resolveWorkloadApiAddress, SPIFFE_ENDPOINT_SOCKET } from './address.js'
export type { BackoffOptions } from './backoff.js'
export type { BundleSourceOptions } from './bundle-source.js'
export { BundleSource } from './bundle-source.js'
export { fetchJwtBundles } from './fetch-jwt-bundles.js'
export { fetchJwtSvid } from './fetch-jwt-svid.js'
export { fetchX509Bundles } from './fetch-x509-bundles.js'
export { fetchX509Context } from './fetch-x509-context.js'
export { fetchX509Svid } from './fetch-x509-svid.js'
export type { JwtSourceOptions } from './jwt-source.js'
export { JwtSource } from './jwt-source.js'
export type { OneShotOptions } from './one-shot-options.js'
export type { X509Context } from './parse-responses.js'
export type { WorkloadSourceOptions } from './source-core.js'
export { validateJwtSvid } from './validate-jwt-svid.js'
export type {
  CallOptions,
  ValidatedJwtSvid,
  Watcher,
  WatchOptions,
  WorkloadApiClientOptions,
} from './workload-api-client.js'
export { WorkloadApiClient } from './workload-api-client.js'
export type { X509SourceOptions, X509SvidPicker } from './x509-source.js'
export { X509Source } from './x509-source.js'
