// The workspace's publishable packages: every package matched by pnpm-workspace.yaml's `packages`
// globs that is not `private`. Generic on purpose: a new package under packages/ is checked without
// touching the packaging tests.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

export const root = new URL('../../../', import.meta.url).pathname

/** What the packaging tests need to know about one publishable package. */
export interface PublishablePackage {
  readonly name: string
  readonly version: string
  /** Folder relative to the repository root, e.g. `packages/core`. */
  readonly dir: string
  /** Import specifiers of every subpath in `exports`, e.g. `@svidkit/core/tls`. */
  readonly specifiers: readonly string[]
  /** `bin` names. */
  readonly bins: readonly string[]
  readonly manifest: Record<string, unknown>
}

export function publishablePackages(): PublishablePackage[] {
  const workspace = parse(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')) as { packages: string[] }
  const dirs: string[] = []
  for (const pattern of workspace.packages) {
    if (pattern.endsWith('/*')) {
      const parent = pattern.slice(0, -2)
      if (!existsSync(join(root, parent))) continue
      for (const name of readdirSync(join(root, parent)).sort()) dirs.push(`${parent}/${name}`)
    } else if (!pattern.includes('*')) dirs.push(pattern)
    else throw new Error(`pnpm-workspace.yaml: the packaging tests do not understand the glob "${pattern}"`)
  }
  const out: PublishablePackage[] = []
  for (const dir of dirs) {
    const file = join(root, dir, 'package.json')
    if (!existsSync(file)) continue
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    if (manifest.private === true) continue
    const name = manifest.name as string
    const exportsMap = (manifest.exports ?? {}) as Record<string, unknown>
    const specifiers = Object.keys(exportsMap)
      .filter((k) => k !== './package.json')
      .map((k) => (k === '.' ? name : `${name}/${k.slice(2)}`))
    const bin = manifest.bin
    const bins = typeof bin === 'string' ? [name.split('/').pop()!] : Object.keys((bin ?? {}) as object)
    out.push({ name, version: manifest.version as string, dir, specifiers, bins, manifest })
  }
  return out
}
