// From a clone, before anything is published: `pnpm svidkit …` at the repository root runs the CLI,
// and `pnpm install` has no cycle to warn about.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { parse } from 'yaml'
import { root } from './setup/workspace-packages.js'

test('pnpm svidkit at the root: the CLI, one JSON object on stdout, its exit codes', () => {
  const ok = spawnSync('pnpm', ['svidkit', 'id', 'spiffe://example.org/ns/shop/sa/web', '--json'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  })
  expect(ok.status).toBe(0)
  expect(ok.stdout.trim().split('\n')).toHaveLength(1)
  expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, path: '/ns/shop/sa/web' })
  const bad = spawnSync('pnpm', ['svidkit', 'id', 'spiffe://example.org/web/', '--json'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  })
  expect(bad.status).toBe(1)
  expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, code: 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH' })
  const version = execFileSync('pnpm', ['exec', 'svidkit', '--version'], { cwd: root, encoding: 'utf8' })
  expect(version.trim()).toBe(
    JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')).version,
  )
})

test('no workspace package depends on itself through others (pnpm warns about cycles on every install)', () => {
  const workspace = parse(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')) as { packages: string[] }
  const deps = new Map<string, string[]>()
  for (const pattern of workspace.packages) {
    const parent = pattern.replace(/\/\*$/, '')
    if (!existsSync(join(root, parent))) continue
    const dirs = pattern.endsWith('/*')
      ? readdirSync(join(root, parent)).map((d) => join(parent, d))
      : [parent]
    for (const dir of dirs) {
      const file = join(root, dir, 'package.json')
      if (!existsSync(file)) continue
      const m = JSON.parse(readFileSync(file, 'utf8'))
      const all = { ...m.dependencies, ...m.devDependencies, ...m.optionalDependencies }
      deps.set(
        m.name,
        Object.entries(all as Record<string, string>)
          .filter(([, range]) => range.startsWith('workspace:'))
          .map(([name]) => name),
      )
    }
  }
  const cycles: string[] = []
  const visit = (name: string, path: string[]): void => {
    if (path.includes(name)) {
      cycles.push([...path.slice(path.indexOf(name)), name].join(' → '))
      return
    }
    for (const dep of deps.get(name) ?? []) visit(dep, [...path, name])
  }
  for (const name of deps.keys()) visit(name, [])
  expect(cycles).toEqual([])
})
