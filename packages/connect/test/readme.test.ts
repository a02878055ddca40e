// The README stays true: its error table summarises core's statusTable by Connect code (every code it
// names has that gRPC status, which Connect's `Code` numbers the same; every code a client can get as
// 7 or 16 is covered), and the Usage snippet is the one test/types/connect-readme.ts type-checks.
import { readFileSync } from 'node:fs'
import { Code } from '@connectrpc/connect'
import { type ErrorCode, statusTable } from '@svidkit/core/errors'
import { expect, test } from 'vitest'
import { readmeUsageCheck } from '../../../test/e2e/harness/adapter-readme-checks.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

function rows() {
  const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## Caveats'))
  return section
    .split('\n')
    .filter((l) => /^\|\s*\d+ `[A-Za-z]+`\s*\|/.test(l))
    .map((line) => {
      const [, status, codes] = line.split('|').map((c) => c.trim())
      const [number, name] = status!.split(' ')
      return {
        grpc: Number.parseInt(number!, 10),
        name: name!.replaceAll('`', ''),
        names: [...codes!.matchAll(/`(ERR_[A-Z0-9_]+\*?)`/g)].map((m) => m[1]!),
      }
    })
}

const matching = (name: string): ErrorCode[] => {
  const all = Object.keys(statusTable) as ErrorCode[]
  return name.endsWith('*') ? all.filter((c) => c.startsWith(name.slice(0, -1))) : [name as ErrorCode]
}

test("every row's Connect code name is the one of its number", () => {
  for (const row of rows()) expect(Code[row.name as keyof typeof Code], row.name).toBe(row.grpc)
})

test('every code named in the README error table has its row status', () => {
  const table = rows()
  expect(table.length).toBeGreaterThanOrEqual(6)
  for (const row of table) {
    for (const name of row.names) {
      const codes = matching(name)
      expect(codes.length, name).toBeGreaterThan(0)
      expect(
        codes.some((c) => c in statusTable && statusTable[c].grpc === row.grpc),
        `${name} in the ${row.grpc} row`,
      ).toBe(true)
    }
  }
  // Completeness for what clients see from authentication and authorization.
  for (const code of (Object.keys(statusTable) as ErrorCode[]).filter((c) =>
    [7, 16].includes(statusTable[c].grpc),
  )) {
    const covered = table.some(
      (row) => row.grpc === statusTable[code].grpc && row.names.some((n) => matching(n).includes(code)),
    )
    expect(covered, `${code} (${statusTable[code].grpc}) is missing from the README`).toBe(true)
  }
})

readmeUsageCheck(readme, new URL('../../../test/types/connect-readme.ts', import.meta.url))
