// The public API of every package, one report per entry point (api-extractor's `.api.md`), checked in
// under packages/<pkg>/api/ so that any change to a public export shows up in review. Reads the built
// declarations (run after `pnpm build`).
//
//   node scripts/api-report.mjs           # rewrite the reports
//   node scripts/api-report.mjs --check   # fail when a report is stale (pnpm test)
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor'

const root = resolve(new URL('..', import.meta.url).pathname)
const check = process.argv.includes('--check')
const problems = []
let reports = 0

// Not the API's shape, only its documentation style: TSDoc conventions are checked elsewhere.
const quiet = { logLevel: ExtractorLogLevel.None }
const messages = {
  compilerMessageReporting: { default: quiet },
  extractorMessageReporting: { default: quiet, 'ae-forgotten-export': quiet },
  tsdocMessageReporting: { default: quiet },
}

for (const dir of readdirSync(join(root, 'packages'))) {
  const pkgDir = join(root, 'packages', dir)
  const pkgFile = join(pkgDir, 'package.json')
  if (!existsSync(pkgFile)) continue
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'))
  const entries = pkg.svidkit?.entries
  if (!entries || pkg.private) continue
  const reportFolder = join(pkgDir, 'api')
  mkdirSync(reportFolder, { recursive: true })
  const expected = new Set()
  for (const [subpath, src] of Object.entries(entries)) {
    const name = subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-')
    const dts = join(pkgDir, 'dist', 'esm', `${src.replace(/^src\//, '').replace(/\.ts$/, '')}.d.ts`)
    if (!existsSync(dts)) {
      problems.push(`${pkg.name}${subpath.slice(1)}: ${dts} is missing (run pnpm build first)`)
      continue
    }
    const reportFileName = `${name}.api.md`
    expected.add(reportFileName)
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: pkgDir,
        mainEntryPointFilePath: dts,
        compiler: { tsconfigFilePath: join(pkgDir, 'tsconfig.json') },
        apiReport: {
          enabled: true,
          reportFolder,
          reportTempFolder: join(pkgDir, 'dist', 'api-temp'),
          reportFileName,
        },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages,
      },
      configObjectFullPath: join(pkgDir, 'api-extractor.json'),
      packageJsonFullPath: pkgFile,
    })
    const result = Extractor.invoke(config, {
      localBuild: !check,
      showVerboseMessages: false,
      // This script reports in its own words; api-extractor's own console output is noise here.
      messageCallback: (message) => {
        message.handled = true
      },
    })
    reports++
    if (check && result.apiReportChanged) {
      problems.push(
        `${pkg.name}${subpath.slice(1)}: the public API changed; run node scripts/api-report.mjs and review api/${reportFileName}`,
      )
    } else if (!result.succeeded && !result.apiReportChanged) {
      problems.push(`${pkg.name}${subpath.slice(1)}: api-extractor failed (${result.errorCount} errors)`)
    }
  }
  for (const file of readdirSync(reportFolder)) {
    if (file.endsWith('.api.md') && !expected.has(file)) {
      if (check) problems.push(`${pkg.name}: api/${file} belongs to no entry point any more`)
      else rmSync(join(reportFolder, file))
    }
  }
}

if (problems.length > 0) {
  console.error(`✖ API reports: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`✔ API reports: ${reports} entry points ${check ? 'match their reports' : 'written'}`)
