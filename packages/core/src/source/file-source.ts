import { type FSWatcher, watch } from 'node:fs'
import { readFile, realpath, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { parseBundleMap } from '../bundle/bundle-map.js'
import { BundleSet } from '../bundle/bundle-set.js'
import type { JwtBundleSource, X509BundleSource } from '../bundle/bundle-source.js'
import { JwtBundle } from '../bundle/jwt-bundle.js'
import { parseBundleDocument } from '../bundle/parse-bundle-document.js'
import type { SpiffeBundle } from '../bundle/spiffe-bundle.js'
import type { X509Bundle } from '../bundle/x509-bundle.js'
import { SourceError } from '../errors/domain-errors.js'
import { SvidkitError } from '../errors/svidkit-error.js'
import { isJsonObject, parseJsonStrict, type StrictJson } from '../internal/parse-json-strict.js'
import { TrustDomain } from '../spiffe-id/trust-domain.js'
import { parseX509Svid } from '../x509-svid/parse-x509-svid.js'
import { verifyX509Svid } from '../x509-svid/verify-x509-svid.js'
import type { X509Svid, X509SvidSource } from '../x509-svid/x509-svid.js'
import { type Config, type FileSourceOptions, MAX_FILE_BYTES, resolveOptions } from './file-source-options.js'
import { LiveSourceBase } from './live-source-base.js'
import { SourceEvents } from './source-events.js'

interface State {
  readonly svid: X509Svid | undefined
  readonly bundles: BundleSet
}

/**
 * A source fed by files on disk, as written by spiffe-helper or cert-manager's csi-driver-spiffe,
 * that follows rotations without a restart.
 *
 * A reload reads **every** file, validates the set as a whole (the SVID with `parseX509Svid`, its
 * chain against the bundle of its trust domain, every bundle), and only then swaps it in and emits
 * `update`. A half-written, missing or invalid set keeps the last good state and emits `error`
 * (`ERR_SOURCE_FILE`, naming the file, never its contents); the last good SVID is served until it
 * expires, after which `getX509Svid()` throws `ERR_SOURCE_SVID_EXPIRED`. Changes are detected with
 * `fs.watch` on the containing directories (debounced), plus a stat poll (inode, size, mtime) as a
 * fallback. For `csi-driver-spiffe`, files are read through the resolved `..data` target so a set is
 * never mixed across two publications. `close()` clears every watcher and timer.
 *
 * @example
 * ```ts
 * import { FileSource } from '@svidkit/core/source'
 *
 * await using source = await FileSource.create({ dir: '/run/spiffe/certs', layout: 'spiffe-helper' })
 * source.on('update', () => console.log('rotated to', source.getX509Svid().expiresAt))
 * source.on('error', (err) => console.warn(err.message)) // e.g. "source: svid_key.pem: …"
 * const svid = source.getX509Svid()
 * ```
 */
export class FileSource extends LiveSourceBase implements X509SvidSource, X509BundleSource, JwtBundleSource {
  protected sourceEvents(): SourceEvents {
    return this.#events
  }

  protected isClosed(): boolean {
    return this.#closed
  }

  readonly #config: Config
  readonly #events = new SourceEvents()
  #state: State | undefined
  #closed = false
  #lastGood: ReadonlyMap<string, Buffer> | undefined
  #lastFailed = false
  #lastError: Error | undefined
  #statSignature: string | undefined
  readonly #watchers = new Map<string, FSWatcher>()
  #debounce: NodeJS.Timeout | undefined
  #pollTimer: NodeJS.Timeout | undefined
  #loading: Promise<void> | undefined
  #again = false
  #onFirstLoad: (() => void) | undefined
  readonly #signal: AbortSignal | undefined
  readonly #onAbort = (): void => {
    void this.close()
  }

  private constructor(config: Config, signal: AbortSignal | undefined) {
    super()
    this.#config = config
    this.#signal = signal
  }

  /**
   * Starts watching and resolves after the first valid file set is loaded. Rejects with
   * `ERR_SOURCE_TIMEOUT` (the last load error as `cause`) when none arrives within `timeoutMs`, and
   * with `ERR_OPTIONS_INVALID` for bad options. Nothing keeps running after a rejection.
   *
   * @example
   * ```ts
   * const source = await FileSource.create({
   *   certFile: '/certs/svid.pem',
   *   keyFile: '/certs/svid_key.pem',
   *   bundleFile: '/certs/svid_bundle.pem',
   *   federatedBundles: '/certs/federated.json', // a SPIFFE bundle map
   *   timeoutMs: 10_000,
   * })
   * ```
   */
  static async create(options: FileSourceOptions): Promise<FileSource> {
    const config = resolveOptions(options)
    const signal = options.signal
    signal?.throwIfAborted()
    const source = new FileSource(config, signal)
    try {
      await source.#start()
    } catch (err) {
      await source.close()
      throw err
    }
    if (signal?.aborted) {
      await source.close()
      signal.throwIfAborted()
    }
    signal?.addEventListener('abort', source.#onAbort, { once: true })
    return source
  }

  /** The current X.509-SVID (the last valid one loaded); throws `ERR_SOURCE_SVID_EXPIRED` once it has expired. */
  getX509Svid(): X509Svid {
    const svid = this.#open().svid
    if (!svid) throw new SourceError('ERR_SOURCE_NO_SVID', 'no certificate file is configured')
    if (svid.expiresAt.getTime() <= Date.now()) {
      throw new SourceError('ERR_SOURCE_SVID_EXPIRED', `X.509-SVID for "${svid.id}" has expired`)
    }
    return svid
  }

  getX509BundleForTrustDomain(trustDomain: TrustDomain): X509Bundle | undefined {
    return this.#open().bundles.getX509BundleForTrustDomain(trustDomain)
  }

  getJwtBundleForTrustDomain(trustDomain: TrustDomain): JwtBundle | undefined {
    return this.#open().bundles.getJwtBundleForTrustDomain(trustDomain)
  }

  /** The SPIFFE bundle (X.509 + JWT parts) of a trust domain. */
  getSpiffeBundleForTrustDomain(trustDomain: TrustDomain | string): SpiffeBundle | undefined {
    return this.#open().bundles.getSpiffeBundle(trustDomain)
  }

  /** Every bundle loaded. A new object after each reload: treat it as read-only. */
  get bundles(): BundleSet {
    return this.#open().bundles
  }

  /** Open, the last reload succeeded, and the SVID (if any) has not expired. */
  get healthy(): boolean {
    if (this.#closed || !this.#state || this.#lastFailed) return false
    const svid = this.#state.svid
    return !svid || svid.expiresAt.getTime() > Date.now()
  }

  /** The error of the last failed reload, or `undefined` when the last reload succeeded. */
  get lastError(): Error | undefined {
    return this.#lastFailed ? this.#lastError : undefined
  }

  /**
   * Reloads now (without waiting for a file event) and resolves when done; a failure is emitted as
   * `error` and does not reject.
   */
  async reload(): Promise<void> {
    this.#open()
    await this.#reload()
  }

  /** Stops every watcher and timer and waits for an in-flight reload. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#signal?.removeEventListener('abort', this.#onAbort)
    for (const w of this.#watchers.values()) w.close()
    this.#watchers.clear()
    clearTimeout(this.#debounce)
    clearTimeout(this.#pollTimer)
    this.#debounce = undefined
    this.#pollTimer = undefined
    this.#events.close()
    this.#onFirstLoad?.()
    await this.#loading?.catch(() => undefined)
  }

  #open(): State {
    if (this.#closed) throw new SourceError('ERR_SOURCE_CLOSED', 'source is closed')
    if (!this.#state) throw new SourceError('ERR_SOURCE_NOT_READY', 'no valid file set loaded yet')
    return this.#state
  }

  async #start(): Promise<void> {
    const { timeoutMs } = this.#config
    const first = new Promise<void>((resolveFirst, reject) => {
      const timer =
        timeoutMs === Number.POSITIVE_INFINITY
          ? undefined
          : setTimeout(() => {
              done()
              const last = this.#lastError
              reject(
                new SourceError(
                  'ERR_SOURCE_TIMEOUT',
                  `no valid file set within ${timeoutMs} ms${last ? `: ${last.message}` : ''}`,
                  last ? { cause: last } : {},
                ),
              )
            }, timeoutMs)
      const onAbort = (): void => {
        done()
        reject(this.#signal?.reason)
      }
      const done = (): void => {
        clearTimeout(timer)
        this.#signal?.removeEventListener('abort', onAbort)
        this.#onFirstLoad = undefined
      }
      this.#signal?.addEventListener('abort', onAbort, { once: true })
      this.#onFirstLoad = () => {
        done()
        if (this.#closed) reject(new SourceError('ERR_SOURCE_CLOSED', 'source was closed while starting'))
        else resolveFirst()
      }
    })
    this.#watch()
    this.#schedulePoll()
    void this.#reload()
    await first
  }

  // --- change detection -------------------------------------------------------------------------

  #paths(): string[] {
    const c = this.#config
    const list = [c.certFile, c.keyFile, c.bundleFile, c.federatedMap, c.jwtBundleFile]
    for (const [, f] of c.federatedFiles) list.push(f)
    return [...new Set(list.filter((p): p is string => p !== undefined))]
  }

  #watch(): void {
    if (!this.#config.watch) return
    const names = new Set(this.#paths().map((p) => basename(p)))
    const dirs = new Set(this.#paths().map((p) => dirname(p)))
    if (this.#config.atomicDir) dirs.add(this.#config.atomicDir)
    for (const dir of dirs) {
      if (this.#watchers.has(dir)) continue
      let w: FSWatcher
      try {
        w = watch(dir, (_event, filename) => {
          // `..data`, `..data_tmp` and `..<timestamp>` are the atomic writer's swap.
          const name = filename?.toString()
          if (name === undefined || names.has(name) || name.startsWith('..')) this.#scheduleReload()
        })
      } catch {
        continue // the directory may not exist yet: the poll retries
      }
      w.on('error', () => {
        w.close()
        if (this.#watchers.get(dir) === w) this.#watchers.delete(dir)
        this.#scheduleReload()
      })
      this.#watchers.set(dir, w)
    }
  }

  #scheduleReload(): void {
    if (this.#closed) return
    clearTimeout(this.#debounce)
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined
      void this.#reload()
    }, this.#config.debounceMs)
  }

  #schedulePoll(): void {
    const interval = this.#config.pollIntervalMs
    if (interval <= 0 || this.#closed) return
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined
      void this.#poll().finally(() => this.#schedulePoll())
    }, interval)
  }

  async #poll(): Promise<void> {
    if (this.#closed) return
    this.#watch() // re-create watchers lost to errors or directories that appeared
    const signature = await this.#signature()
    if (this.#closed) return
    if (signature !== this.#statSignature) this.#scheduleReload()
  }

  async #signature(): Promise<string> {
    const parts: string[] = []
    for (const p of this.#paths()) {
      try {
        const s = await stat(p, { bigint: true })
        parts.push(`${p}:${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`)
      } catch (err) {
        parts.push(`${p}:${(err as NodeJS.ErrnoException).code ?? 'error'}`)
      }
    }
    return parts.join('|')
  }

  // --- loading ----------------------------------------------------------------------------------

  /** Runs one reload at a time; a request during a reload runs once more right after it. */
  #reload(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    if (this.#loading) {
      this.#again = true
      return this.#loading
    }
    const run = async (): Promise<void> => {
      do {
        this.#again = false
        await this.#loadOnce()
      } while (this.#again && !this.#closed)
    }
    this.#loading = run().finally(() => {
      this.#loading = undefined
    })
    return this.#loading
  }

  async #loadOnce(): Promise<void> {
    let signature: string | undefined
    try {
      signature = await this.#signature()
      const files = await this.#readAll()
      if (this.#closed) return
      if (this.#lastGood && sameFiles(files, this.#lastGood)) {
        this.#statSignature = signature
        this.#lastFailed = false
        return
      }
      const state = this.#parse(files)
      if (this.#closed) return
      this.#state = state
      this.#lastGood = files
      this.#statSignature = signature
      this.#lastFailed = false
      this.#lastError = undefined
      const first = this.#onFirstLoad
      if (first) first()
      this.#events.emitUpdate()
    } catch (err) {
      if (this.#closed) return
      const error =
        err instanceof SvidkitError
          ? err
          : new SourceError('ERR_SOURCE_FILE', 'cannot load files', { cause: err })
      // Remember what failed so the poll does not retry an unchanged invalid set in a loop.
      if (signature !== undefined) this.#statSignature = signature
      this.#lastFailed = true
      this.#lastError = error
      if (!this.#onFirstLoad) this.#events.emitError(error)
    }
  }

  async #readAll(): Promise<Map<string, Buffer>> {
    let base: string | undefined
    const dir = this.#config.atomicDir
    if (dir) {
      try {
        base = await realpath(join(dir, '..data'))
      } catch {
        base = undefined // not published through ..data: read the files directly
      }
    }
    const files = new Map<string, Buffer>()
    for (const p of this.#paths()) {
      const from = base !== undefined && dirname(p) === dir ? join(base, basename(p)) : p
      let data: Buffer
      try {
        data = await readFile(from)
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code
        throw fileError(
          p,
          code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? 'error'})`,
          cause,
        )
      }
      if (data.length > MAX_FILE_BYTES) throw fileError(p, `file is larger than ${MAX_FILE_BYTES} bytes`)
      if (data.length === 0) throw fileError(p, 'file is empty')
      files.set(p, data)
    }
    return files
  }

  #parse(files: ReadonlyMap<string, Buffer>): State {
    const c = this.#config
    let svid: X509Svid | undefined
    if (c.certFile) {
      const cert = files.get(c.certFile)!.toString('utf8')
      const key = c.keyFile ? files.get(c.keyFile)!.toString('utf8') : undefined
      try {
        svid = parseX509Svid(cert, key)
      } catch (cause) {
        const code = cause instanceof SvidkitError ? cause.code : undefined
        const file =
          code === 'ERR_X509_SVID_KEY_INVALID' && c.keyFile
            ? c.keyFile
            : code === 'ERR_X509_SVID_KEY_MISMATCH' && c.keyFile
              ? `${c.certFile} and ${c.keyFile}`
              : c.certFile
        throw fileError(file, reasonOf(cause), cause)
      }
      if (c.trustDomain && !svid.id.trustDomain.equals(c.trustDomain)) {
        throw fileError(
          c.certFile,
          `SVID "${svid.id}" is not in the configured trust domain "${c.trustDomain}"`,
        )
      }
    }
    const td = c.trustDomain ?? svid?.id.trustDomain
    const bundles = new BundleSet()
    if (c.bundleFile) {
      try {
        const parsed = parseBundleDocument(files.get(c.bundleFile)!, td ? { trustDomain: td } : {})
        for (const b of parsed.bundles) bundles.add(b)
      } catch (cause) {
        throw fileError(c.bundleFile, reasonOf(cause), cause)
      }
    }
    const own = (name: string): boolean => bundles.has(name)
    if (c.federatedMap) {
      try {
        for (const b of parseBundleMap(files.get(c.federatedMap)!))
          if (!own(b.trustDomain.name)) bundles.add(b)
      } catch (cause) {
        throw fileError(c.federatedMap, reasonOf(cause), cause)
      }
    }
    for (const [ftd, file] of c.federatedFiles) {
      if (own(ftd.name)) continue
      try {
        const b = parseBundleDocument(files.get(file)!, { trustDomain: ftd }).bundles.getSpiffeBundle(ftd)
        if (b) bundles.add(b)
      } catch (cause) {
        throw fileError(file, reasonOf(cause), cause)
      }
    }
    if (c.jwtBundleFile) {
      try {
        for (const jwt of parseJwtBundles(files.get(c.jwtBundleFile)!)) bundles.add(jwt)
      } catch (cause) {
        throw fileError(c.jwtBundleFile, reasonOf(cause), cause)
      }
    }
    if (svid) {
      if (svid.expiresAt.getTime() <= Date.now()) {
        throw new SourceError('ERR_SOURCE_SVID_EXPIRED', `${c.certFile}: X.509-SVID has expired`, {
          details: { file: c.certFile },
        })
      }
      if (c.verifySvid && c.bundleFile) {
        try {
          // The chain must hold against the bundle loaded with it: a half-rotated set (new SVID,
          // old bundle) is rejected and the last good set stays. Expiry is checked above.
          verifyX509Svid(svid.certificates, bundles, { clockSkewSeconds: 300 })
        } catch (cause) {
          throw fileError(
            `${c.certFile} and ${c.bundleFile}`,
            `SVID does not verify against the bundle: ${reasonOf(cause)}`,
            cause,
          )
        }
      }
    }
    return Object.freeze({ svid, bundles })
  }
}

function fileError(file: string, reason: string, cause?: unknown): SourceError {
  return new SourceError('ERR_SOURCE_FILE', `${file}: ${reason}`, {
    details: { file },
    ...(cause === undefined ? {} : { cause }),
  })
}

function reasonOf(err: unknown): string {
  if (err instanceof SvidkitError) return err.reason
  return 'invalid content'
}

function sameFiles(a: ReadonlyMap<string, Buffer>, b: ReadonlyMap<string, Buffer>): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) {
    const w = b.get(k)
    if (!w || !v.equals(w)) return false
  }
  return true
}

/** spiffe-helper `{"td": "<base64 JWKS>"}`, `{"td": <JWKS>}`, or a bundle map. */
function parseJwtBundles(content: Buffer): JwtBundle[] {
  const text = content.toString('utf8')
  const doc = parseJsonStrict(text.trim())
  if (!isJsonObject(doc)) throw new SourceError('ERR_SOURCE_FILE', 'JWT bundle file must be a JSON object')
  if ('trust_domains' in doc) return [...parseBundleMap(text)].map((b) => b.jwtBundle())
  const out: JwtBundle[] = []
  for (const [name, value] of Object.entries(doc)) {
    const td = TrustDomain.parse(name)
    const jwks = typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : stringify(value)
    out.push(JwtBundle.fromJwks(td, jwks))
  }
  return out
}

function stringify(value: StrictJson): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
}
