import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BundleSet, marshalBundleMap } from '@svidkit/core/bundle'
import { SvidkitError } from '@svidkit/core/errors'
import { FileSource, type FileSourceOptions } from '@svidkit/core/source'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { codeOf, TestCA, type TestX509Svid } from '@svidkit/testing'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'

let ca: TestCA
let partner: TestCA
let stranger: TestCA
const td = TrustDomain.parse('files.test')
const dirs: string[] = []
const sources: FileSource[] = []

const FAST = { debounceMs: 20, pollIntervalMs: 100, timeoutMs: 5000 } as const

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: td })
  partner = await TestCA.create({ trustDomain: 'partner.test' })
  stranger = await TestCA.create({ trustDomain: 'files.test' }) // same name, other keys
})

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()))
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'svidkit-filesource-'))
  dirs.push(dir)
  return dir
}

async function open(options: FileSourceOptions): Promise<FileSource> {
  const source = await FileSource.create(options)
  sources.push(source)
  return source
}

async function writeHelperFiles(
  dir: string,
  svid: TestX509Svid,
  bundlePem = ca.certificate.toString(),
): Promise<void> {
  await writeFile(join(dir, 'svid.pem'), svid.certificatesPem)
  await writeFile(join(dir, 'svid_key.pem'), svid.privateKeyPem, { mode: 0o600 })
  await writeFile(join(dir, 'svid_bundle.pem'), bundlePem)
}

async function errorOf(fn: () => unknown): Promise<SvidkitError> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof SvidkitError) return err
    throw err
  }
  throw new Error('expected a failure')
}

/** Collects `error` events of a source. */
function errorsOf(source: FileSource): SvidkitError[] {
  const errors: SvidkitError[] = []
  source.on('error', (e) => errors.push(e as SvidkitError))
  return errors
}

async function until(cond: () => boolean, ms = 4000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 15))
  }
}

describe('FileSource: spiffe-helper files', () => {
  test('loads svid.pem, svid_key.pem and svid_bundle.pem', async () => {
    const dir = await tempDir()
    const svid = await ca.issueX509Svid({ id: '/web' })
    await writeHelperFiles(dir, svid)
    const source = await open({ dir, layout: 'spiffe-helper', ...FAST })
    expect(source.getX509Svid().id.toString()).toBe('spiffe://files.test/web')
    expect(source.getX509Svid().certificates[0]!.fingerprint256).toBe(svid.certificates[0]!.fingerprint256)
    expect(source.getX509BundleForTrustDomain(td)?.authorities.map((a) => a.fingerprint256)).toEqual([
      ca.certificate.fingerprint256,
    ])
    expect(source.healthy).toBe(true)
    expect(source.lastError).toBeUndefined()
  })

  test('explicit files, a spiffe-helper JWT bundle and a federated bundle map', async () => {
    const dir = await tempDir()
    const svid = await ca.issueX509Svid({ id: '/web' })
    await writeHelperFiles(dir, svid)
    const jwks = JSON.stringify(ca.jwtBundle().toJwks())
    await writeFile(
      join(dir, 'jwt_bundle.json'),
      JSON.stringify({ 'files.test': Buffer.from(jwks).toString('base64') }),
    )
    await writeFile(join(dir, 'federated.json'), marshalBundleMap(new BundleSet([partner.spiffeBundle()])))
    const source = await open({
      certFile: join(dir, 'svid.pem'),
      keyFile: join(dir, 'svid_key.pem'),
      bundleFile: join(dir, 'svid_bundle.pem'),
      jwtBundleFile: join(dir, 'jwt_bundle.json'),
      federatedBundles: join(dir, 'federated.json'),
      ...FAST,
    })
    expect(source.getJwtBundleForTrustDomain(td)?.findAuthority(ca.jwtKeyId)).toBeDefined()
    expect(source.getX509BundleForTrustDomain(partner.trustDomain)?.authorities[0]?.fingerprint256).toBe(
      partner.certificate.fingerprint256,
    )
    // Never merged: each trust domain answers with its own authorities only.
    expect(source.getX509BundleForTrustDomain(td)?.authorities).toHaveLength(1)
    expect(source.bundles.trustDomains().map(String)).toEqual(['files.test', 'partner.test'])
  })

  test('picks up a rotation, replacing the bundle set object', async () => {
    const dir = await tempDir()
    await writeHelperFiles(dir, await ca.issueX509Svid({ id: '/web' }))
    const source = await open({ dir, layout: 'spiffe-helper', ...FAST })
    const before = source.bundles
    const rotated = await ca.issueX509Svid({ id: '/web' })
    const updated = source.waitUntilUpdated(AbortSignal.timeout(4000))
    await writeHelperFiles(dir, rotated)
    await updated
    await until(
      () => source.getX509Svid().certificates[0]!.fingerprint256 === rotated.certificates[0]!.fingerprint256,
    )
    expect(source.bundles).not.toBe(before)
  })

  test('a half-written set keeps the last good state and emits error, then recovers', async () => {
    const dir = await tempDir()
    const first = await ca.issueX509Svid({ id: '/web' })
    await writeHelperFiles(dir, first)
    const source = await open({ dir, layout: 'spiffe-helper', ...FAST })
    const errors = errorsOf(source)
    let updates = 0
    source.on('update', () => updates++)

    // spiffe-helper writes the files one by one: new certificate, old key.
    const next = await ca.issueX509Svid({ id: '/web' })
    await writeFile(join(dir, 'svid.pem'), next.certificatesPem)
    await until(() => errors.length > 0)
    expect(errors[0]!.code).toBe('ERR_SOURCE_FILE')
    expect(errors[0]!.message).toContain('svid_key.pem')
    expect(errors[0]!.message).not.toContain('PRIVATE KEY')
    expect(source.getX509Svid().certificates[0]!.fingerprint256).toBe(first.certificates[0]!.fingerprint256)
    expect(source.healthy).toBe(false)
    expect(updates).toBe(0)

    // A truncated certificate file is refused too.
    await writeFile(join(dir, 'svid.pem'), next.certificatesPem.slice(0, 200))
    await until(() => errors.length > 1)
    expect(errors[1]!.code).toBe('ERR_SOURCE_FILE')
    expect(source.getX509Svid().certificates[0]!.fingerprint256).toBe(first.certificates[0]!.fingerprint256)

    // The writer finishes: the complete set is applied.
    await writeFile(join(dir, 'svid.pem'), next.certificatesPem)
    await writeFile(join(dir, 'svid_key.pem'), next.privateKeyPem)
    await until(() => updates > 0)
    expect(source.getX509Svid().certificates[0]!.fingerprint256).toBe(next.certificates[0]!.fingerprint256)
    expect(source.healthy).toBe(true)
  })

  test('a new SVID with a bundle that does not vouch for it is refused (half-rotated CA)', async () => {
    const dir = await tempDir()
    const first = await ca.issueX509Svid({ id: '/web' })
    await writeHelperFiles(dir, first)
    const source = await open({ dir, layout: 'spiffe-helper', ...FAST })
    const errors = errorsOf(source)
    const foreign = await stranger.issueX509Svid({ id: '/web' })
    await writeFile(join(dir, 'svid.pem'), foreign.certificatesPem)
    await writeFile(join(dir, 'svid_key.pem'), foreign.privateKeyPem)
    await until(() => errors.length > 0)
    expect(errors.at(-1)!.message).toContain('does not verify against the bundle')
    expect(source.getX509Svid().certificates[0]!.fingerprint256).toBe(first.certificates[0]!.fingerprint256)
    // The new CA's bundle arrives: accepted.
    await writeFile(join(dir, 'svid_bundle.pem'), ca.certificate.toString() + stranger.certificate.toString())
    await until(
      () => source.getX509Svid().certificates[0]!.fingerprint256 === foreign.certificates[0]!.fingerprint256,
    )
  })

  test('a deleted file is an error, but the last SVID is served until it expires', async () => {
    const dir = await tempDir()
    const shortLived = await ca.issueX509Svid({ id: '/web', notAfter: new Date(Date.now() + 1500) })
    await writeHelperFiles(dir, shortLived)
    const source = await open({ dir, layout: 'spiffe-helper', ...FAST })
    const errors = errorsOf(source)
    await unlink(join(dir, 'svid_key.pem'))
    await until(() => errors.length > 0)
    expect(errors[0]!.code).toBe('ERR_SOURCE_FILE')
    expect(errors[0]!.details).toEqual({ file: join(dir, 'svid_key.pem') })
    expect(errors[0]!.message).toContain('file not found')
    expect(source.getX509Svid().id.toString()).toBe('spiffe://files.test/web')
    expect(source.healthy).toBe(false)
    await until(() => Date.now() > shortLived.expiresAt.getTime() + 10, 3000)
    expect(await codeOf(() => source.getX509Svid())).toBe('ERR_SOURCE_SVID_EXPIRED')
  })

  test('polling alone (watch: false) detects a change', async () => {
    const dir = await tempDir()
    await writeHelperFiles(dir, await ca.issueX509Svid({ id: '/web' }))
    const source = await open({
      dir,
      layout: 'spiffe-helper',
      watch: false,
      debounceMs: 0,
      pollIntervalMs: 50,
    })
    const next = await ca.issueX509Svid({ id: '/api' })
    await writeHelperFiles(dir, next)
    await until(() => source.getX509Svid().id.toString() === 'spiffe://files.test/api')
  })

  test('an identical rewrite emits no update', async () => {
    const dir = await tempDir()
    const svid = await ca.issueX509Svid({ id: '/web' })
    await writeHelperFiles(dir, svid)
    const source = await open({ dir, layout: 'spiffe-helper', ...FAST })
    let updates = 0
    source.on('update', () => updates++)
    await writeHelperFiles(dir, svid)
    await source.reload()
    await new Promise((r) => setTimeout(r, 250))
    expect(updates).toBe(0)
  })
})

describe('FileSource: csi-driver-spiffe ..data symlink swap', () => {
  async function publish(dir: string, svid: TestX509Svid, n: number): Promise<string> {
    const ts = join(dir, `..2024_01_01_00_00_0${n}.${process.pid}`)
    await mkdir(ts)
    await writeFile(join(ts, 'tls.crt'), svid.certificatesPem)
    await writeFile(join(ts, 'tls.key'), svid.privateKeyPem)
    await writeFile(join(ts, 'ca.crt'), ca.certificate.toString())
    await symlink(ts.slice(dir.length + 1), join(dir, '..data_tmp'))
    await rename(join(dir, '..data_tmp'), join(dir, '..data'))
    return ts
  }

  test('follows the atomic writer: every swap is applied as a whole', async () => {
    const dir = await tempDir()
    const first = await ca.issueX509Svid({ id: '/ns/default/sa/web' })
    const old = await publish(dir, first, 1)
    for (const f of ['tls.crt', 'tls.key', 'ca.crt']) await symlink(join('..data', f), join(dir, f))
    const source = await open({ dir, layout: 'csi-driver-spiffe', ...FAST })
    expect(source.getX509Svid().id.toString()).toBe('spiffe://files.test/ns/default/sa/web')

    const second = await ca.issueX509Svid({ id: '/ns/default/sa/web' })
    const updated = source.waitUntilUpdated(AbortSignal.timeout(4000))
    await publish(dir, second, 2)
    await rm(old, { recursive: true }) // the writer removes the previous publication
    await updated
    expect(source.getX509Svid().certificates[0]!.fingerprint256).toBe(second.certificates[0]!.fingerprint256)
    expect(source.healthy).toBe(true)
  })

  test('a swap found only by the poll (watch: false) is applied too', async () => {
    const dir = await tempDir()
    await publish(dir, await ca.issueX509Svid({ id: '/a' }), 1)
    for (const f of ['tls.crt', 'tls.key', 'ca.crt']) await symlink(join('..data', f), join(dir, f))
    const source = await open({
      dir,
      layout: 'csi-driver-spiffe',
      watch: false,
      pollIntervalMs: 50,
      debounceMs: 0,
    })
    await publish(dir, await ca.issueX509Svid({ id: '/b' }), 2)
    await until(() => source.getX509Svid().id.toString() === 'spiffe://files.test/b')
  })
})

describe('FileSource: creation, options and shutdown', () => {
  test('create() times out with ERR_SOURCE_TIMEOUT naming the missing file', async () => {
    const dir = await tempDir()
    const err = await errorOf(() =>
      FileSource.create({ dir, layout: 'spiffe-helper', timeoutMs: 150, pollIntervalMs: 50 }),
    )
    expect(err.code).toBe('ERR_SOURCE_TIMEOUT')
    expect(err.message).toContain('svid.pem')
    expect((err.cause as SvidkitError).code).toBe('ERR_SOURCE_FILE')
  })

  test('create() waits for files that appear later', async () => {
    const dir = await tempDir()
    const pending = open({ dir, layout: 'spiffe-helper', ...FAST })
    await new Promise((r) => setTimeout(r, 100))
    await writeHelperFiles(dir, await ca.issueX509Svid({ id: '/late' }))
    const source = await pending
    expect(source.getX509Svid().id.toString()).toBe('spiffe://files.test/late')
  })

  test('an expired SVID on disk is never loaded', async () => {
    const dir = await tempDir()
    const expired = await ca.issueX509Svid({
      id: '/web',
      notBefore: new Date(Date.now() - 7200_000),
      notAfter: new Date(Date.now() - 1000),
    })
    await writeHelperFiles(dir, expired)
    const err = await FileSource.create({ dir, layout: 'spiffe-helper', timeoutMs: 150 }).catch(
      (e: unknown) => e,
    )
    expect((err as SvidkitError).code).toBe('ERR_SOURCE_TIMEOUT')
    expect(((err as SvidkitError).cause as SvidkitError).code).toBe('ERR_SOURCE_SVID_EXPIRED')
  })

  test('the trust domain option must match the SVID', async () => {
    const dir = await tempDir()
    await writeHelperFiles(dir, await ca.issueX509Svid({ id: '/web' }))
    const err = await errorOf(() =>
      FileSource.create({ dir, layout: 'spiffe-helper', trustDomain: 'other.test', timeoutMs: 150 }),
    )
    expect(err.code).toBe('ERR_SOURCE_TIMEOUT')
    expect(err.message).toContain('not in the configured trust domain')
  })

  test('a bundle-only source', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'ca.pem'), ca.certificate.toString())
    const source = await open({ bundleFile: join(dir, 'ca.pem'), trustDomain: td, ...FAST })
    expect(source.getX509BundleForTrustDomain(td)).toBeDefined()
    expect(await codeOf(() => source.getX509Svid())).toBe('ERR_SOURCE_NO_SVID')
  })

  test.each([
    ['nothing to load', {}],
    ['dir and files together', { dir: '/tmp', layout: 'spiffe-helper', certFile: '/tmp/x' }],
    ['unknown layout', { dir: '/tmp', layout: 'nope' }],
    ['layout without dir', { layout: 'spiffe-helper', certFile: '/tmp/x' }],
    ['key without cert', { keyFile: '/tmp/k' }],
    ['bad trust domain', { certFile: '/tmp/x', trustDomain: 'Not A TD' }],
    ['negative poll', { certFile: '/tmp/x', pollIntervalMs: -1 }],
    ['bad federated key', { certFile: '/tmp/x', federatedBundles: { 'Not A TD': '/tmp/f' } }],
  ])('options: %s → ERR_OPTIONS_INVALID', async (_name, options) => {
    expect(await codeOf(() => FileSource.create(options as FileSourceOptions))).toBe('ERR_OPTIONS_INVALID')
  })

  test('aborting the signal closes the source', async () => {
    const dir = await tempDir()
    await writeHelperFiles(dir, await ca.issueX509Svid({ id: '/web' }))
    const ac = new AbortController()
    const source = await open({ dir, layout: 'spiffe-helper', ...FAST, signal: ac.signal })
    ac.abort()
    await until(() => !source.healthy)
    expect(await codeOf(() => source.getX509Svid())).toBe('ERR_SOURCE_CLOSED')
  })

  test('close() leaves no watcher and no timer behind', async () => {
    // Timers are tracked by wrapping the globals (getActiveResourcesInfo also lists the runner's own
    // timers); watchers through getActiveResourcesInfo, where only fs.watch creates FSEventWrap.
    const watchers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
    }
    await settle()
    const watchersBefore = watchers()
    const live = new Set<unknown>()
    const realSet = globalThis.setTimeout
    const realClear = globalThis.clearTimeout
    globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const handle = realSet(() => {
        live.delete(handle)
        fn(...args)
      }, ms)
      live.add(handle)
      return handle
    }) as typeof setTimeout
    globalThis.clearTimeout = ((handle?: Parameters<typeof clearTimeout>[0]) => {
      live.delete(handle)
      realClear(handle)
    }) as typeof clearTimeout
    try {
      const dir = await tempDir()
      await writeHelperFiles(dir, await ca.issueX509Svid({ id: '/web' }))
      // A creation that fails (a missing federated file) must clean up as well.
      const failed = await errorOf(() =>
        FileSource.create({
          dir,
          layout: 'spiffe-helper',
          federatedBundles: { 'partner.test': join(dir, 'missing', 'x.pem') },
          pollIntervalMs: 50,
          timeoutMs: 200,
        }),
      )
      expect(failed.code).toBe('ERR_SOURCE_TIMEOUT')
      await settle()
      expect(live.size).toBe(0)
      expect(watchers()).toBe(watchersBefore)

      const source = await FileSource.create({
        dir,
        layout: 'spiffe-helper',
        debounceMs: 5000,
        pollIntervalMs: 10_000,
      })
      expect(watchers()).toBeGreaterThan(watchersBefore)
      await writeHelperFiles(dir, await ca.issueX509Svid({ id: '/web' })) // leaves a debounce pending
      await until(() => live.size >= 2) // the poll and the debounce
      await source.close()
      await source.close()
      await settle()
      expect(live.size).toBe(0)
      expect(watchers()).toBe(watchersBefore)
      expect(await codeOf(() => source.waitUntilUpdated())).toBe('ERR_SOURCE_CLOSED')
    } finally {
      globalThis.setTimeout = realSet
      globalThis.clearTimeout = realClear
    }
  })
})
