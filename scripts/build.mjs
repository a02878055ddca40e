// Builds every workspace package to ESM (tsc, with declarations) and CJS (esbuild, per file), so each
// package ships `dist/esm` (`"type": "module"` from the package) and `dist/cjs` (with its own
// `{"type":"commonjs"}`), both with `.d.ts` types. Usage: node scripts/build.mjs
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { transformSync } from 'esbuild'

const root = new URL('..', import.meta.url).pathname
const packages = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')).references.map((r) => r.path)

function walk(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...walk(p))
    else out.push(p)
  }
  return out
}

// 1. ESM + declarations, incrementally, through the project references.
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-b', join(root, 'tsconfig.json')],
  {
    stdio: 'inherit',
  },
)

// 2. CJS: transform each emitted ESM file, copy the declarations next to them.
for (const pkg of packages) {
  const esm = join(root, pkg, 'dist/esm')
  const cjs = join(root, pkg, 'dist/cjs')
  if (!existsSync(esm)) continue
  rmSync(cjs, { recursive: true, force: true })
  for (const file of walk(esm)) {
    const rel = relative(esm, file)
    const target = join(cjs, rel)
    mkdirSync(dirname(target), { recursive: true })
    if (file.endsWith('.js')) {
      const source = readFileSync(file, 'utf8')
      const usesImportMeta = source.includes('import.meta.url')
      const { code, warnings } = transformSync(source, {
        format: 'cjs',
        platform: 'node',
        target: 'node20',
        sourcefile: rel,
        logLevel: 'silent',
        // `import.meta.url` has a CJS equivalent: the file URL of __filename.
        ...(usesImportMeta
          ? {
              define: { 'import.meta.url': '__svidkit_import_meta_url' },
              banner: 'const __svidkit_import_meta_url = require("node:url").pathToFileURL(__filename).href;',
            }
          : {}),
      })
      for (const w of warnings) console.warn(`${pkg}/${rel}: ${w.text}`)
      writeFileSync(target, code)
    } else if (file.endsWith('.d.ts')) {
      copyFileSync(file, target)
    }
  }
  writeFileSync(join(cjs, 'package.json'), '{"type":"commonjs"}\n')
}
console.log(`built ${packages.length} packages (ESM + CJS)`)
