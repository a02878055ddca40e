import { readFileSync } from 'node:fs'
import { statusTable } from '@svidkit/core/errors'
import { expect, test } from 'vitest'
import { parse } from 'yaml'
// The generator of docs/troubleshooting.md (a plain script at the repository root).
import {
  causesPath,
  renderTroubleshooting,
  troubleshootingPath,
} from '../../../../scripts/troubleshooting-md.mjs'

const causes = () =>
  parse(readFileSync(causesPath, 'utf8')) as Record<string, { cause: string; check: string }>

test('docs/troubleshooting.md explains every code of the status table and is up to date', () => {
  const page = readFileSync(troubleshootingPath, 'utf8')
  expect(page, 'run node scripts/troubleshooting-md.mjs').toBe(renderTroubleshooting(statusTable, causes()))
  for (const [code, e] of Object.entries(statusTable)) {
    const at = page.indexOf(`### \`${code}\`\n`)
    expect(at, `${code} has a section`).toBeGreaterThan(0)
    expect(page.slice(at).split('\n')[2]).toMatch(new RegExp(`^HTTP ${e.http}\\b.* · gRPC ${e.grpc} `))
  }
})

test('a code without a cause, or a cause for a code that does not exist, fails the generator', () => {
  const { ERR_INTERNAL: _, ...withoutOne } = causes()
  expect(() => renderTroubleshooting(statusTable, withoutOne)).toThrow(/ERR_INTERNAL/)
  expect(() =>
    renderTroubleshooting(statusTable, { ...causes(), ERR_NO_SUCH_CODE: { cause: 'x', check: 'y' } }),
  ).toThrow(/ERR_NO_SUCH_CODE/)
})
