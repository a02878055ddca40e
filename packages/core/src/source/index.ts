/**
 * Long-lived sources of SVIDs and bundles that are not the Workload API: {@link StaticSource} (fixed
 * content, for tests and fixed deployments) and {@link FileSource} (files written by spiffe-helper or
 * cert-manager's csi-driver-spiffe, reloaded atomically on rotation). Both share the
 * {@link LiveSource} lifecycle of the Workload API sources (`@svidkit/core/workload-api`): `update`
 * and `error` events, `healthy`, `waitUntilUpdated()`, and `close()` / `await using`.
 *
 * @example
 * ```ts
 * import { FileSource } from '@svidkit/core/source'
 * await using source = await FileSource.create({ dir: '/run/spiffe/certs', layout: 'spiffe-helper' })
 * const svid = source.getX509Svid()
 * ```
 * @module
 */

export { FileSource } from './file-source.js'
export type {
  FileSourceCommonOptions,
  FileSourceDirOptions,
  FileSourceFileOptions,
  FileSourceLayout,
  FileSourceOptions,
} from './file-source-options.js'
export type { LiveSource, SourceEventMap } from './live-source.js'
export type { MintJwtSvid, StaticSourceContent, StaticSourceOptions } from './static-source.js'
export { StaticSource } from './static-source.js'
