// The tarballs as a user installs them (npm, outside the workspace): every entry point loads as ESM
// and as CJS with the same exports, the smoke scripts work from both module systems, bins run, and
// @svidkit/core loads nothing test-only.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, inject, test } from 'vitest'
import { publishablePackages } from './setup/workspace-packages.js'

const packages = publishablePackages()
const specifiers = packages.flatMap((p) => p.specifiers)

function node(args: string[], cwd = inject('packaging').consumer): string {
  return execFileSync(process.execPath, args, {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

describe('every entry point of every package', () => {
  test('loads with import() and with require(), with the same named exports', () => {
    const { consumer } = inject('packaging')
    writeFileSync(
      join(consumer, 'entries.mjs'),
      `const out = {}\nfor (const s of ${JSON.stringify(specifiers)}) out[s] = Object.keys(await import(s)).sort()\nconsole.log(JSON.stringify(out))\n`,
    )
    writeFileSync(
      join(consumer, 'entries.cjs'),
      `const out = {}\nfor (const s of ${JSON.stringify(specifiers)}) out[s] = Object.keys(require(s)).sort()\nconsole.log(JSON.stringify(out))\n`,
    )
    const esm = JSON.parse(node(['entries.mjs'])) as Record<string, string[]>
    const cjs = JSON.parse(node(['entries.cjs'])) as Record<string, string[]>
    expect(Object.keys(esm).sort()).toEqual([...specifiers].sort())
    for (const s of specifiers) {
      expect(esm[s]!.length, `${s} exports something`).toBeGreaterThan(0)
      expect(cjs[s], `${s}: CJS exports the same names as ESM`).toEqual(esm[s])
    }
  })
})

describe('the smoke scripts', () => {
  const expected = {
    spiffeId: '/ns/shop/sa/web',
    error: { code: 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH', subclass: true, base: true, is: true },
    fastify: {
      allowed: [200, 'spiffe://example.org/ns/shop/sa/web'],
      refused: [401, 'ERR_CREDENTIALS_MISSING'],
    },
    express: {
      allowed: [200, 'spiffe://example.org/ns/shop/sa/web'],
      refused: [401, 'ERR_CREDENTIALS_MISSING'],
    },
    nest: {
      allowed: [200, 'spiffe://example.org/ns/shop/sa/web'],
      refused: [401, 'ERR_CREDENTIALS_MISSING'],
    },
    cli: { code: 0, spiffeId: 'spiffe://example.org/ns/shop/sa/web' },
  }
  test('as an ES module (import)', () => {
    expect(JSON.parse(node(['smoke.mjs']))).toEqual(expected)
  })
  test('as CommonJS (require)', () => {
    expect(JSON.parse(node(['smoke.cjs']))).toEqual(expected)
  })
})

describe.each(packages.filter((p) => p.bins.length > 0).map((p) => [p.name, p] as const))(
  'bins of %s',
  (_n, pkg) => {
    test.each(pkg.bins)('%s runs from node_modules/.bin', (bin) => {
      const { consumer } = inject('packaging')
      const out = execFileSync(join(consumer, 'node_modules/.bin', bin), ['--version'], { encoding: 'utf8' })
      expect(out.trim()).toBe(pkg.version)
    })
  },
)

test('svidkit --json from the installed bin: exactly one JSON object, exit codes 0 and 1', () => {
  const { consumer } = inject('packaging')
  const bin = join(consumer, 'node_modules/.bin/svidkit')
  expect(
    JSON.parse(execFileSync(bin, ['id', 'spiffe://example.org/a', '--json'], { encoding: 'utf8' })),
  ).toMatchObject({
    ok: true,
  })
  let status = 0
  let stdout = ''
  try {
    execFileSync(bin, ['id', 'spiffe://example.org/a/', '--json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (err) {
    ;({ status, stdout } = err as { status: number; stdout: string })
  }
  expect(status).toBe(1)
  expect(JSON.parse(stdout)).toMatchObject({ ok: false, code: 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH' })
})

test('@svidkit/core ships and loads nothing test-only (the dev agent and test CA stay in @svidkit/testing)', () => {
  const { consumer } = inject('packaging')
  const core = packages.find((p) => p.name === '@svidkit/core')!
  const manifest = core.manifest as Record<string, Record<string, string> | undefined>
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
    expect(Object.keys(manifest[field] ?? {}), field).not.toContain('@svidkit/testing')
  }
  // Every module CommonJS loads for every core entry point, by path: all inside core or its declared
  // dependencies, none from @svidkit/testing or its own dependencies.
  writeFileSync(
    join(consumer, 'core-graph.cjs'),
    `for (const s of ${JSON.stringify(core.specifiers)}) require(s)\nconsole.log(JSON.stringify(Object.keys(require.cache)))\n`,
  )
  const loaded = (JSON.parse(node(['core-graph.cjs'])) as string[]).map((f) =>
    f.slice(f.lastIndexOf('node_modules/') + 13),
  )
  const packagesLoaded = [
    ...new Set(
      loaded.map((f) =>
        f
          .split('/')
          .slice(0, f.startsWith('@') ? 2 : 1)
          .join('/'),
      ),
    ),
  ]
  expect(packagesLoaded).toContain('@svidkit/core')
  expect(packagesLoaded).not.toContain('@svidkit/testing')
  expect(packagesLoaded).not.toContain('@peculiar/x509') // the test CA's certificate builder
  expect(packagesLoaded).not.toContain('reflect-metadata')
  expect(loaded.filter((f) => /test-ca|dev-agent|\.test\./i.test(f))).toEqual([])
})
