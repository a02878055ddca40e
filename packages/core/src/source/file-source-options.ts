// FileSource options: the two ways to name the files (explicit paths or a directory layout), their
// validation, and the resolved configuration FileSource runs on.
import { join, resolve } from 'node:path'
import { optionsFailure } from '../internal/options.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'

/**
 * Well-known directory layouts:
 * - `spiffe-helper`: `svid.pem` (leaf + intermediates), `svid_key.pem` (PKCS#8), `svid_bundle.pem`;
 * - `csi-driver-spiffe` (cert-manager): `tls.crt`, `tls.key`, `ca.crt`, published through an atomic
 *   `..data` symlink swap (the Kubernetes atomic writer).
 *
 * @example
 * ```ts
 * const layout: FileSourceLayout = 'csi-driver-spiffe'
 * await FileSource.create({ dir: '/var/run/secrets/spiffe.io', layout })
 * ```
 */
export type FileSourceLayout = 'spiffe-helper' | 'csi-driver-spiffe'

/**
 * Options shared by both forms of {@link FileSourceOptions}.
 *
 * @example
 * ```ts
 * const common: FileSourceCommonOptions = { jwtBundleFile: 'jwt_bundle.json', pollIntervalMs: 10_000 }
 * await FileSource.create({ dir: '/certs', layout: 'spiffe-helper', ...common })
 * ```
 */
export interface FileSourceCommonOptions {
  /**
   * The trust domain of the bundle file. Default: the SVID's trust domain. When set and an SVID is
   * loaded, the SVID must belong to it.
   */
  trustDomain?: TrustDomain | string | undefined
  /**
   * Bundles of federated trust domains, kept per trust domain and never merged: either the path of
   * a SPIFFE bundle map (`{"trust_domains": {…}}`), or `{ "<trust domain>": "<PEM or SPIFFE bundle file>" }`.
   * (spiffe-helper's `include_federated_domains` appends federated CAs to the main bundle file
   * without naming their trust domains; svidkit cannot separate them, so do not use it.)
   */
  federatedBundles?: string | Readonly<Record<string, string>> | undefined
  /**
   * A JWT bundle file: spiffe-helper's `jwt_bundle_file_name` JSON (`{"<td>": "<base64 JWKS>"}`),
   * `{"<td>": <JWKS>}`, or a SPIFFE bundle map. Relative to `dir` in the directory form.
   */
  jwtBundleFile?: string | undefined
  /** Check that the SVID chains to the bundle of its trust domain before accepting a file set. Default `true`. */
  verifySvid?: boolean | undefined
  /**
   * Use `fs.watch` on the files' directories. Default `true`; set `false` to rely on polling alone
   * (network or FUSE filesystems where change notifications are not delivered).
   */
  watch?: boolean | undefined
  /** Quiet period after a file event before reloading, in ms. Default 100. */
  debounceMs?: number | undefined
  /**
   * How often to compare the files' inode, size and mtime as a fallback for missed watch events
   * (fs.watch misses symlink swaps on some platforms), in ms. Default 5000; 0 disables polling.
   */
  pollIntervalMs?: number | undefined
  /** How long `create()` waits for the first valid file set, in ms. Default 30 000; `Infinity` waits forever. */
  timeoutMs?: number | undefined
  /** Aborting it cancels `create()` or closes the source. */
  signal?: AbortSignal | undefined
}

/**
 * A FileSource over explicit files.
 *
 * @example
 * ```ts
 * const files: FileSourceFileOptions = { certFile: 'tls.crt', keyFile: 'tls.key', bundleFile: 'ca.crt' }
 * ```
 */
export interface FileSourceFileOptions extends FileSourceCommonOptions {
  /** PEM certificate chain, leaf first (may also hold the key when `keyFile` is omitted). */
  certFile?: string | undefined
  /** PEM PKCS#8 private key. */
  keyFile?: string | undefined
  /** The trust bundle: PEM CA certificates, a SPIFFE bundle (JSON) or a bundle map. */
  bundleFile?: string | undefined
}

/**
 * A FileSource over a directory written by a known tool.
 *
 * @example
 * ```ts
 * const dir: FileSourceDirOptions = { dir: '/run/spiffe/certs', layout: 'spiffe-helper' }
 * ```
 */
export interface FileSourceDirOptions extends FileSourceCommonOptions {
  /** The directory the tool writes to. */
  dir: string
  /** Which tool's file names and update protocol to expect. */
  layout: FileSourceLayout
}

/**
 * Options for {@link FileSource.create}: explicit files, or a directory and its layout.
 *
 * @example
 * ```ts
 * const options: FileSourceOptions = { dir: '/run/spiffe/certs', layout: 'spiffe-helper', timeoutMs: 10_000 }
 * await using source = await FileSource.create(options)
 * ```
 */
export type FileSourceOptions = FileSourceFileOptions | FileSourceDirOptions

export const LAYOUTS: Record<
  FileSourceLayout,
  { cert: string; key: string; bundle: string; atomicDir: boolean }
> = {
  'spiffe-helper': { cert: 'svid.pem', key: 'svid_key.pem', bundle: 'svid_bundle.pem', atomicDir: false },
  'csi-driver-spiffe': { cert: 'tls.crt', key: 'tls.key', bundle: 'ca.crt', atomicDir: true },
}
export const MAX_FILE_BYTES = 4 * 1024 * 1024

/** Resolved, validated options. @internal */
export interface Config {
  readonly certFile: string | undefined
  readonly keyFile: string | undefined
  readonly bundleFile: string | undefined
  readonly federatedMap: string | undefined
  readonly federatedFiles: readonly (readonly [TrustDomain, string])[]
  readonly jwtBundleFile: string | undefined
  /** A directory published through a `..data` symlink: files are read from its resolved target. */
  readonly atomicDir: string | undefined
  readonly trustDomain: TrustDomain | undefined
  readonly verifySvid: boolean
  readonly watch: boolean
  readonly debounceMs: number
  readonly pollIntervalMs: number
  readonly timeoutMs: number
}

/** Validates the options eagerly and resolves every path. @internal */
export function resolveOptions(options: FileSourceOptions): Config {
  const bad = optionsFailure('FileSource')
  if (typeof options !== 'object' || options === null) bad('options must be an object')
  const num = (v: number | undefined, name: string, def: number, min: number, infinite = false): number => {
    if (v === undefined) return def
    if (typeof v !== 'number' || Number.isNaN(v) || v < min || (!infinite && !Number.isFinite(v))) {
      bad(`"${name}" must be a number ≥ ${min}${infinite ? ' (or Infinity)' : ''}`)
    }
    return v
  }
  const str = (v: string | undefined, name: string): string | undefined => {
    if (v === undefined) return undefined
    if (typeof v !== 'string' || v.length === 0) bad(`"${name}" must be a non-empty path`)
    return v
  }
  const td = (v: TrustDomain | string, what: string): TrustDomain => {
    if (v instanceof TrustDomain) return v
    const parsed = typeof v === 'string' ? TrustDomain.tryParse(v) : undefined
    return parsed ?? bad(`${what} is not a trust domain name`)
  }
  let certFile: string | undefined
  let keyFile: string | undefined
  let bundleFile: string | undefined
  let atomicDir: string | undefined
  let base: string | undefined
  if ('dir' in options && options.dir !== undefined) {
    const o = options as FileSourceDirOptions & FileSourceFileOptions
    if (o.certFile !== undefined || o.keyFile !== undefined || o.bundleFile !== undefined) {
      bad('give either "dir" and "layout", or "certFile" / "keyFile" / "bundleFile"')
    }
    const layout = LAYOUTS[o.layout]
    if (!Object.hasOwn(LAYOUTS, o.layout) || !layout)
      bad('"layout" must be "spiffe-helper" or "csi-driver-spiffe"')
    base = resolve(str(o.dir, 'dir')!)
    certFile = join(base, layout!.cert)
    keyFile = join(base, layout!.key)
    bundleFile = join(base, layout!.bundle)
    if (layout!.atomicDir) atomicDir = base
  } else {
    const o = options as FileSourceFileOptions
    if ('layout' in options && (options as { layout?: unknown }).layout !== undefined)
      bad('"layout" needs "dir"')
    certFile = pathOf(str(o.certFile, 'certFile'))
    keyFile = pathOf(str(o.keyFile, 'keyFile'))
    bundleFile = pathOf(str(o.bundleFile, 'bundleFile'))
    if (keyFile && !certFile) bad('"keyFile" needs "certFile"')
  }
  const at = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : base ? resolve(base, p) : resolve(p)
  const jwtBundleFile = at(str(options.jwtBundleFile, 'jwtBundleFile'))
  let federatedMap: string | undefined
  const federatedFiles: (readonly [TrustDomain, string])[] = []
  const fed = options.federatedBundles
  if (typeof fed === 'string') federatedMap = at(str(fed, 'federatedBundles'))
  else if (fed !== undefined) {
    if (typeof fed !== 'object' || fed === null) bad('"federatedBundles" must be a path or an object')
    for (const [name, file] of Object.entries(fed)) {
      federatedFiles.push([
        td(name, `federatedBundles key "${name.slice(0, 100)}"`),
        at(str(file, `federatedBundles["${name}"]`))!,
      ])
    }
  }
  if (!certFile && !bundleFile && !federatedMap && federatedFiles.length === 0 && !jwtBundleFile) {
    bad('nothing to load: give "certFile", "bundleFile", "federatedBundles", "jwtBundleFile" or "dir"')
  }
  const trustDomain = options.trustDomain === undefined ? undefined : td(options.trustDomain, '"trustDomain"')
  if (options.verifySvid !== undefined && typeof options.verifySvid !== 'boolean')
    bad('"verifySvid" must be a boolean')
  if (options.watch !== undefined && typeof options.watch !== 'boolean') bad('"watch" must be a boolean')
  return Object.freeze({
    certFile,
    keyFile,
    bundleFile,
    federatedMap,
    federatedFiles,
    jwtBundleFile,
    atomicDir,
    trustDomain,
    verifySvid: options.verifySvid ?? true,
    watch: options.watch ?? true,
    debounceMs: num(options.debounceMs, 'debounceMs', 100, 0),
    pollIntervalMs: num(options.pollIntervalMs, 'pollIntervalMs', 5000, 0),
    timeoutMs: num(options.timeoutMs, 'timeoutMs', 30_000, 1, true),
  })
}

function pathOf(p: string | undefined): string | undefined {
  return p === undefined ? undefined : resolve(p)
}
