// The changesets release flow, run for real on a scratch copy of the workspace's manifests: a changeset
// for one package bumps every publishable package together (the `fixed` group), writes each CHANGELOG,
// and leaves private packages alone.
import { execFileSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { parse } from 'yaml'
import { publishablePackages, root } from './setup/workspace-packages.js'

const packages = publishablePackages()
const scratch = mkdtempSync(join(tmpdir(), 'svidkit-release-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const changeset = join(root, 'node_modules/.bin/changeset')

test('the changesets config names every publishable package in one fixed group', () => {
  const config = JSON.parse(readFileSync(join(root, '.changeset/config.json'), 'utf8'))
  expect(config.fixed).toEqual([['@svidkit/*']])
  expect(config.access).toBe('public')
  expect(config.privatePackages).toEqual({ version: false, tag: false })
  for (const p of packages) expect(p.name.startsWith('@svidkit/'), p.name).toBe(true)
})

/** A scratch copy of the workspace's manifests, changelogs and changesets config, committed to git. */
function scratchWorkspace(name: string): string {
  const dir = join(scratch, name)
  const workspace = parse(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')) as { packages: string[] }
  const dirs = ['.']
  for (const pattern of workspace.packages) {
    const parent = pattern.replace(/\/\*$/, '')
    if (!existsSync(join(root, parent))) continue
    if (pattern.endsWith('/*')) dirs.push(...readdirSync(join(root, parent)).map((d) => `${parent}/${d}`))
    else dirs.push(parent)
  }
  for (const d of dirs) {
    for (const file of ['package.json', 'CHANGELOG.md']) {
      if (!existsSync(join(root, d, file))) continue
      mkdirSync(join(dir, d), { recursive: true })
      cpSync(join(root, d, file), join(dir, d, file))
    }
  }
  cpSync(join(root, 'pnpm-workspace.yaml'), join(dir, 'pnpm-workspace.yaml'))
  mkdirSync(join(dir, '.changeset'))
  cpSync(join(root, '.changeset/config.json'), join(dir, '.changeset/config.json'))
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], {
      cwd: dir,
      stdio: 'ignore',
    })
  git('init', '-q', '-b', 'main')
  git('add', '-A')
  git('commit', '-qm', 'scratch')
  return dir
}

/** Writes one changeset and runs `changeset version`; returns every publishable package's new version. */
function version(dir: string, bump: 'patch' | 'minor', text: string): Record<string, string> {
  writeFileSync(join(dir, '.changeset/brave-fox.md'), `---\n'@svidkit/express': ${bump}\n---\n\n${text}\n`)
  execFileSync(changeset, ['version'], { cwd: dir, stdio: 'pipe', env: { ...process.env, CI: '1' } })
  expect(existsSync(join(dir, '.changeset/brave-fox.md')), 'the changeset is consumed').toBe(false)
  return Object.fromEntries(
    packages.map((p) => [p.name, JSON.parse(readFileSync(join(dir, p.dir, 'package.json'), 'utf8')).version]),
  )
}

test('a patch changeset for one package releases every package at the next patch, with CHANGELOG entries', () => {
  const dir = scratchWorkspace('patch')
  const next = version(dir, 'patch', 'A fix in the Express middleware.')
  const patch = (v: string) => v.replace(/\d+$/, (n) => String(Number(n) + 1))
  for (const p of packages) {
    expect(next[p.name], p.name).toBe(patch(p.version))
    const changelog = readFileSync(join(dir, p.dir, 'CHANGELOG.md'), 'utf8')
    expect(changelog.startsWith(`# ${p.name}\n\n## ${patch(p.version)}\n`), `${p.name} CHANGELOG`).toBe(true)
    expect(changelog).toContain(`## ${p.version}\n`) // earlier entries stay
  }
  const express = packages.find((p) => p.name === '@svidkit/express')!
  expect(readFileSync(join(dir, express.dir, 'CHANGELOG.md'), 'utf8')).toContain(
    'A fix in the Express middleware.',
  )
  // Private packages are never versioned.
  const demo = join(dir, 'examples/demo/package.json')
  if (existsSync(demo)) expect(JSON.parse(readFileSync(demo, 'utf8')).version).toBe('0.0.0')
})

test("before 1.0, a minor changeset plans 1.0.0 (the adapters' peer range on core, ^0.x, would break): CONTRIBUTING says so", () => {
  const below1 = packages.every((p) => p.version.startsWith('0.'))
  const dir = scratchWorkspace('minor')
  const next = version(dir, 'minor', 'A new option.')
  const versions = new Set(Object.values(next))
  expect(versions.size, 'one version line').toBe(1)
  if (below1) {
    expect([...versions]).toEqual(['1.0.0'])
    expect(readFileSync(join(root, 'CONTRIBUTING.md'), 'utf8')).toContain(
      'Until 1.0.0, every changeset is a `patch`',
    )
  }
})
