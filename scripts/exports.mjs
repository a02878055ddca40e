// Writes the `exports` map of a package from its list of entry points, so the map cannot drift; also
// the fields older resolvers read: `main` / `module` / `types` for the root entry, and `typesVersions`
// for the subpaths (TypeScript's `moduleResolution: node10` ignores `exports`).
// Usage: node scripts/exports.mjs            (rewrite every package)
//        node scripts/exports.mjs --check    (fail when a package.json is out of date)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const check = process.argv.includes('--check')
let stale = 0
for (const dir of readdirSync('packages')) {
  const file = join('packages', dir, 'package.json')
  if (!existsSync(file)) continue
  const pkg = JSON.parse(readFileSync(file, 'utf8'))
  const entries = pkg.svidkit?.entries
  if (!entries) continue
  const exportsMap = {}
  for (const [subpath, src] of Object.entries(entries)) {
    const rel = src.replace(/^src\//, '').replace(/\.ts$/, '')
    exportsMap[subpath] = {
      'svidkit-source': `./${src}`,
      import: { types: `./dist/esm/${rel}.d.ts`, default: `./dist/esm/${rel}.js` },
      require: { types: `./dist/cjs/${rel}.d.ts`, default: `./dist/cjs/${rel}.js` },
    }
  }
  exportsMap['./package.json'] = './package.json'
  const legacy = {}
  if (entries['.']) {
    const rel = entries['.'].replace(/^src\//, '').replace(/\.ts$/, '')
    Object.assign(legacy, {
      main: `./dist/cjs/${rel}.js`,
      module: `./dist/esm/${rel}.js`,
      types: `./dist/esm/${rel}.d.ts`,
    })
  }
  const subpaths = Object.entries(entries).filter(([subpath]) => subpath !== '.')
  if (subpaths.length > 0) {
    const map = {}
    for (const [subpath, src] of subpaths) {
      map[subpath.replace(/^\.\//, '')] = [
        `./dist/esm/${src.replace(/^src\//, '').replace(/\.ts$/, '')}.d.ts`,
      ]
    }
    legacy.typesVersions = { '*': map }
  }
  // Field order kept: the legacy fields go just before `svidkit`, `exports` stays where it was.
  const next = {}
  for (const [key, value] of Object.entries(pkg)) {
    if (key in legacy) continue
    if (key === 'svidkit') Object.assign(next, legacy)
    next[key] = key === 'exports' ? exportsMap : value
  }
  next.exports = exportsMap
  const text = `${JSON.stringify(next, null, 2)}\n`
  if (text !== readFileSync(file, 'utf8')) {
    stale++
    if (check) console.error(`${file}: exports map is out of date (run node scripts/exports.mjs)`)
    else writeFileSync(file, text)
  }
}
if (check && stale) process.exit(1)
