// Checks the structure of @svidkit/core (run by `pnpm test`): imports run down the layers of
// .dependency-cruiser.cjs only, no import cycle spans folders, and no source file outgrows the size
// limit (generated protobuf code excepted). Prints every violation and exits 1 if there is any.
//
//   node scripts/check-layers.mjs
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cruise } from 'dependency-cruiser'

const root = new URL('..', import.meta.url).pathname
process.chdir(root)
const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs')
const MAX_LINES = 550
const GENERATED = new Set(['packages/core/src/workload-api/proto/workload-proto.ts'])

const { tsConfig, ...options } = config.options
const result = await cruise(
  ['packages/core/src'],
  { ...options, validate: true, ruleSet: { forbidden: config.forbidden } },
  undefined,
  {
    tsConfig,
  },
)
if (
  result.output.modules.some((m) => m.dependencies.some((d) => d.couldNotResolve && d.module.startsWith('.')))
) {
  console.error('✖ core structure: some relative imports could not be resolved (check the tsConfig option)')
  process.exit(1)
}
const folderOf = (p) => /^packages\/core\/src\/([^/]+)\//.exec(p)?.[1] ?? '(root)'
const problems = []
for (const v of result.output.summary.violations) {
  if (v.rule.name === 'no-circular') {
    // A cycle inside one folder is that folder's business; one that spans folders breaks the layers.
    const cycle = (v.cycle ?? []).map((c) => (typeof c === 'string' ? c : c.name))
    const spanned = new Set([v.from, ...cycle].map(folderOf))
    if (spanned.size > 1) problems.push(`import cycle across folders: ${[v.from, ...cycle].join(' → ')}`)
    continue
  }
  const rule = config.forbidden.find((r) => r.name === v.rule.name)
  problems.push(`${v.rule.name}: ${v.from} → ${v.to}${rule?.comment ? ` (${rule.comment})` : ''}`)
}
for (const m of result.output.modules) {
  if (!m.source.startsWith('packages/core/src/') || GENERATED.has(m.source)) continue
  const lines = readFileSync(m.source, 'utf8').split('\n').length
  if (lines > MAX_LINES)
    problems.push(`${m.source} has ${lines} lines (limit ${MAX_LINES}): split it by concern`)
}

const modules = result.output.modules.filter((m) => m.source.startsWith('packages/core/src/')).length
if (problems.length > 0) {
  console.error(`✖ core structure: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(
  `✔ core structure: ${modules} modules, imports run down ${config.LAYERS.length} layers, no cycle spans folders, no file over ${MAX_LINES} lines`,
)
