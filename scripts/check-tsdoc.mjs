// Checks that every public export (everything named in the export lists of the entry files declared in
// each package.json's `svidkit.entries`) has TSDoc with an `@example`. Exits 1 listing the misses.
// Usage: node scripts/check-tsdoc.mjs
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

const out = []
for (const pkg of ['core', 'testing', 'fastify', 'express', 'grpc', 'connect', 'nestjs', 'cli']) {
  const pj = JSON.parse(readFileSync(`packages/${pkg}/package.json`, 'utf8'))
  for (const entry of Object.values(pj.svidkit.entries)) {
    const file = `packages/${pkg}/${entry}`
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/export (type )?\{([^}]*)\} from '([^']+)'/g)) {
      const names = m[2]
        .split(',')
        .map((s) => s.trim().replace(/^type /, ''))
        .filter(Boolean)
        .map((s) => s.split(' as ')[0].trim())
      const target = resolve(dirname(file), m[3].replace(/\.js$/, '.ts'))
      const t = existsSync(target) ? target : target.replace(/\.ts$/, '/index.ts')
      out.push(...names.map((n) => [n, t]))
    }
  }
}
const missing = new Set()
const seen = new Set()
function findDecl(name, file, depth = 0) {
  if (depth > 4 || !existsSync(file)) return
  const text = readFileSync(file, 'utf8')
  const lines = text.split('\n')
  const re = new RegExp(
    `^export (?:declare )?(?:async )?(?:function|class|const|interface|type|abstract class)\\s+${name}\\b`,
  )
  const i = lines.findIndex((l) => re.test(l))
  if (i === -1) {
    for (const m of text.matchAll(/export (type )?\{([^}]*)\} from '([^']+)'/g)) {
      if (
        m[2]
          .split(',')
          .map((s) => s.trim().replace(/^type /, ''))
          .includes(name)
      )
        findDecl(name, resolve(dirname(file), m[3].replace(/\.js$/, '.ts')), depth + 1)
    }
    return
  }
  const key = `${file}:${name}`
  if (seen.has(key)) return
  seen.add(key)
  let j = i - 1
  while (j >= 0 && lines[j].trim() === '') j--
  // Class decorators (`@Injectable()`, a multi-line `@Module({ … })`) sit between the TSDoc and the class.
  if (/^\s*@\w/.test(lines[j] ?? '') || /^[})\]]/.test(lines[j] ?? '')) {
    let d = j
    while (d >= 0 && !lines[d].trim().endsWith('*/') && (/^(\s|@|[})\]])/.test(lines[d]) || lines[d] === ''))
      d--
    if (d >= 0 && lines[d].trim().endsWith('*/')) j = d
  }
  let k = j
  while (k >= 0 && !lines[k].includes('/**')) k--
  const doc = j >= 0 && lines[j].trim().endsWith('*/') ? lines.slice(k, j + 1).join('\n') : ''
  if (!doc.includes('@example')) missing.add(`${file.replace(`${process.cwd()}/`, '')}:${i + 1} ${name}`)
}
for (const [n, f] of out) findDecl(n, f)
if (missing.size > 0) {
  console.error(
    `${missing.size} public export(s) without a TSDoc @example:\n${[...missing].sort().join('\n')}`,
  )
  process.exit(1)
}
console.log('every public export has TSDoc with an @example')
