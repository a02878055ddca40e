// publint (strict, down to suggestions) and Are the Types Wrong? on each packed tarball.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { describe, expect, inject, test } from 'vitest'
import { publishablePackages, root } from './setup/workspace-packages.js'

const packages = publishablePackages()

describe.each(packages.map((p) => [p.name, p] as const))('%s', (_name, pkg) => {
  test('publint --strict finds nothing, not even a suggestion', async () => {
    const tarball = readFileSync(inject('packaging').tarballs[pkg.name]!)
    const { messages, pkg: manifest } = await publint({
      pkgDir: 'package', // the folder inside the tarball
      level: 'suggestion',
      strict: true,
      pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) },
    })
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, manifest)}`)).toEqual([])
  })

  test('attw: types resolve for every entry under node10, node16 (CJS and ESM) and bundler', () => {
    const bin = join(root, 'node_modules/.bin/attw')
    let report: string
    try {
      report = execFileSync(bin, ['--format', 'json', inject('packaging').tarballs[pkg.name]!], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 64 * 1024 * 1024,
      })
    } catch (err) {
      report = (err as { stdout: string }).stdout // attw exits 1 when it finds problems
    }
    const { analysis } = JSON.parse(report) as {
      analysis: {
        problems: { kind: string; entrypoint?: string; resolutionKind?: string }[]
        entrypoints: Record<string, unknown>
      }
    }
    expect(
      analysis.problems.map((p) => `${p.kind} ${p.entrypoint ?? ''} ${p.resolutionKind ?? ''}`.trim()),
    ).toEqual([])
    // attw looked at every entry of the exports map.
    expect(Object.keys(analysis.entrypoints).sort()).toEqual(
      [
        ...pkg.specifiers.map((s) => (s === pkg.name ? '.' : `./${s.slice(pkg.name.length + 1)}`)),
        './package.json',
      ].sort(),
    )
  })
})
