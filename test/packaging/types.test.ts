// TypeScript users compile against the installed declarations: every entry point, plus a consumer that
// uses the API the way the READMEs do (typed.ts), with `moduleResolution` node16 (from an ES module and
// from CommonJS) and bundler, strict and without skipLibCheck.
import { execFileSync } from 'node:child_process'
import { copyFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, expect, inject, test } from 'vitest'
import { publishablePackages, root } from './setup/workspace-packages.js'

const specifiers = publishablePackages().flatMap((p) => p.specifiers)
// Nest 12 ships ESM-only types: a CommonJS TypeScript project that uses it compiles with `module:
// nodenext` (TypeScript ≥ 5.8 follows Node's require(esm)); `node16` refuses any import of it, ours too.
const esmOnlyPeers = (s: string) => s.startsWith('@svidkit/nestjs')
const common = {
  target: 'es2022',
  lib: ['es2023', 'dom'],
  strict: true,
  noEmit: true,
  skipLibCheck: false,
  esModuleInterop: true,
  types: ['node'],
}

function tsc(project: string): { status: number; output: string } {
  try {
    const output = execFileSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', project],
      {
        cwd: inject('packaging').consumer,
        encoding: 'utf8',
        timeout: 120_000,
      },
    )
    return { status: 0, output }
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string }
    return { status: e.status, output: `${e.stdout}${e.stderr}` }
  }
}

beforeAll(() => {
  const { consumer } = inject('packaging')
  const entriesOf = (list: string[]) =>
    `${list.map((s, i) => `import * as e${i} from '${s}'`).join('\n')}\nexport const entries = [${list.map((_, i) => `e${i}`).join(', ')}]\n`
  for (const ext of ['mts', 'cts', 'ts']) {
    writeFileSync(
      join(consumer, `entries.${ext}`),
      entriesOf(ext === 'cts' ? specifiers.filter((s) => !esmOnlyPeers(s)) : specifiers),
    )
    if (ext !== 'ts') copyFileSync(join(consumer, 'typed.ts'), join(consumer, `typed.${ext}`))
  }
  writeFileSync(join(consumer, 'entries-esm-peers.cts'), entriesOf(specifiers.filter(esmOnlyPeers)))
  const config = (compilerOptions: object, files: string[]) =>
    `${JSON.stringify({ compilerOptions: { ...common, ...compilerOptions }, files }, null, 2)}\n`
  // One program per module system, as a user has: an ES module project and a CommonJS one.
  writeFileSync(
    join(consumer, 'tsconfig.node16-esm.json'),
    config({ module: 'node16', moduleResolution: 'node16' }, ['entries.mts', 'typed.mts']),
  )
  writeFileSync(
    join(consumer, 'tsconfig.node16-cjs.json'),
    config({ module: 'node16', moduleResolution: 'node16' }, ['entries.cts', 'typed.cts']),
  )
  writeFileSync(
    join(consumer, 'tsconfig.nodenext-cjs.json'),
    config({ module: 'nodenext', moduleResolution: 'nodenext' }, ['entries-esm-peers.cts']),
  )
  writeFileSync(
    join(consumer, 'tsconfig.bundler.json'),
    config({ module: 'esnext', moduleResolution: 'bundler' }, ['entries.ts', 'typed.ts']),
  )
})

test.each(['esm', 'cjs'])('moduleResolution node16: the consumer compiles as %s', (kind) => {
  const r = tsc(`tsconfig.node16-${kind}.json`)
  expect(r.output).toBe('')
  expect(r.status).toBe(0)
})

test('CommonJS with ESM-only peers (Nest 12): the entries compile under module nodenext', () => {
  expect(specifiers.filter(esmOnlyPeers).length).toBeGreaterThan(0)
  const r = tsc('tsconfig.nodenext-cjs.json')
  expect(r.output).toBe('')
  expect(r.status).toBe(0)
})

test('moduleResolution bundler: the consumer compiles', () => {
  const r = tsc('tsconfig.bundler.json')
  expect(r.output).toBe('')
  expect(r.status).toBe(0)
})

test('the checks can fail: a wrong type in the consumer is reported under both resolutions', () => {
  const { consumer } = inject('packaging')
  writeFileSync(
    join(consumer, 'wrong.ts'),
    "import { SpiffeId } from '@svidkit/core/spiffe-id'\nexport const n: number = SpiffeId.parse('spiffe://example.org/a').path\n",
  )
  writeFileSync(
    join(consumer, 'tsconfig.wrong.json'),
    JSON.stringify({
      compilerOptions: { ...common, module: 'esnext', moduleResolution: 'bundler' },
      files: ['wrong.ts'],
    }),
  )
  const r = tsc('tsconfig.wrong.json')
  expect(r.status).not.toBe(0)
  expect(r.output).toContain("Type 'string' is not assignable to type 'number'")
})
