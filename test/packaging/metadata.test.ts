// Every publishable package says what it is, where it comes from and what it ships, and its tarball
// carries real versions (no `workspace:` or `catalog:` specifier survives packing).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, inject, test } from 'vitest'
import { publishablePackages, root } from './setup/workspace-packages.js'

const packages = publishablePackages()
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const license = readFileSync(join(root, 'LICENSE'), 'utf8')

/** The package.json inside a tarball, as the registry will serve it. */
function packedManifest(tarball: string): Record<string, unknown> {
  return JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }))
}

test('the workspace has publishable packages, core among them', () => {
  expect(packages.map((p) => p.name)).toContain('@svidkit/core')
  expect(packages.length).toBeGreaterThanOrEqual(5)
})

describe.each(packages.map((p) => [p.name, p] as const))('%s', (_name, pkg) => {
  const m = pkg.manifest

  test('metadata is complete', () => {
    expect(m.name).toMatch(/^@svidkit\/[a-z0-9-]+$/)
    expect(m.version).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/)
    expect(typeof m.description === 'string' && m.description.length >= 20, 'description').toBe(true)
    expect(Array.isArray(m.keywords) && (m.keywords as string[]).includes('spiffe'), 'keywords').toBe(true)
    expect(m.license).toBe('Apache-2.0')
    expect(m.repository).toEqual({ type: 'git', url: rootManifest.repository.url, directory: pkg.dir })
    expect(m.homepage).toBe(
      `${rootManifest.repository.url.replace(/^git\+|\.git$/g, '')}/tree/main/${pkg.dir}#readme`,
    )
    expect(m.bugs).toEqual({ url: `${rootManifest.repository.url.replace(/^git\+|\.git$/g, '')}/issues` })
    expect(m.engines).toEqual({ node: rootManifest.engines.node })
    expect(m.sideEffects === false || Array.isArray(m.sideEffects), 'sideEffects').toBe(true)
    expect(m.type).toBe('module')
    expect(m.publishConfig).toEqual({ access: 'public' })
    expect(m.files).toEqual(expect.arrayContaining(['dist', 'README.md', 'CHANGELOG.md']))
  })

  test('README, CHANGELOG and the root LICENSE are in the package folder', () => {
    expect(existsSync(join(root, pkg.dir, 'README.md'))).toBe(true)
    expect(readFileSync(join(root, pkg.dir, 'CHANGELOG.md'), 'utf8')).toMatch(
      new RegExp(`^# ${pkg.name.replace('/', '\\/')}\\n\\n## ${pkg.version.replace(/\./g, '\\.')}\\n`),
    )
    expect(readFileSync(join(root, pkg.dir, 'LICENSE'), 'utf8')).toBe(license)
  })

  test('the tarball: real versions for sibling packages, no workspace or catalog specifiers', () => {
    const packed = packedManifest(inject('packaging').tarballs[pkg.name]!)
    const text = JSON.stringify(packed)
    expect(text).not.toMatch(/"(workspace|catalog):/)
    for (const field of ['dependencies', 'peerDependencies'] as const) {
      for (const [dep, range] of Object.entries((packed[field] ?? {}) as Record<string, string>)) {
        const sibling = packages.find((p) => p.name === dep)
        if (sibling) expect(range, `${field}.${dep}`).toBe(`^${sibling.version}`)
      }
    }
    expect(packed.devDependencies).toBeDefined() // kept, harmless: npm never installs them for users
  })

  test('the tarball holds what files says and nothing of the build or the tests', () => {
    const list = execFileSync('tar', ['-tzf', inject('packaging').tarballs[pkg.name]!], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''))
    expect(list).toEqual(expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE']))
    expect(list.some((f) => f.startsWith('dist/esm/')) && list.some((f) => f.startsWith('dist/cjs/'))).toBe(
      true,
    )
    const unwanted = list.filter((f) =>
      /(^|\/)(test|tests|__tests__|fixtures|node_modules)\/|\.test\.|\.tsbuildinfo$|^tsconfig/.test(f),
    )
    expect(unwanted).toEqual([])
  })
})
