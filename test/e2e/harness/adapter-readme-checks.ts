// Checks shared by every adapter's README test: the error table summarises core's statusTable (HTTP
// adapters: every code it names has the status and challenge of its row, every 400/401/403 code is
// covered; gRPC-style adapters, `grpcReadmeChecks`: the same by gRPC status), and the Usage snippet
// is the one test/types/<adapter>-readme.ts type-checks (`readmeUsageCheck`).
import { readFileSync } from 'node:fs'
import { type ErrorCode, statusTable } from '@svidkit/core/errors'
import { expect, test } from 'vitest'

export function adapterReadmeChecks(readmeUrl: URL, typedSnippetUrl: URL): void {
  const readme = readFileSync(readmeUrl, 'utf8')

  function rows() {
    const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## Caveats'))
    return section
      .split('\n')
      .filter((l) => /^\|\s*\d{3}\s*\|/.test(l))
      .map((line) => {
        const [, status, challenge, codes] = line.split(/(?<!\\)\|/).map((c) => c.trim())
        const bearer = /error="(\w+)"/.exec(challenge!)?.[1] ?? null
        return {
          http: Number(status),
          bearer,
          bare: challenge === '`Bearer realm="svidkit"`',
          names: [...codes!.matchAll(/`(ERR_[A-Z0-9_]+\*?)`/g)].map((m) => m[1]!),
        }
      })
  }

  const fits = (code: ErrorCode, row: ReturnType<typeof rows>[number]) => {
    const e = statusTable[code]
    return e.http === row.http && e.bearerError === row.bearer && (row.bare ? e.http === 401 : true)
  }

  test('every code named in the README error table has its row status and challenge', () => {
    const all = Object.keys(statusTable) as ErrorCode[]
    const table = rows()
    expect(table.length).toBeGreaterThanOrEqual(7)
    for (const row of table) {
      for (const name of row.names) {
        const matching = name.endsWith('*')
          ? all.filter((c) => c.startsWith(name.slice(0, -1)))
          : [name as ErrorCode]
        expect(matching.length, name).toBeGreaterThan(0)
        expect(
          matching.some((c) => c in statusTable && fits(c, row)),
          `${name} in the ${row.http} row`,
        ).toBe(true)
      }
    }
    // Completeness for what clients see from authentication and authorization.
    for (const code of all.filter((c) => statusTable[c].http < 500)) {
      const covered = table.some(
        (row) =>
          fits(code, row) &&
          row.names.some((n) => (n.endsWith('*') ? code.startsWith(n.slice(0, -1)) : n === code)),
      )
      expect(covered, `${code} (${statusTable[code].http}) is missing from the README`).toBe(true)
    }
  })

  readmeUsageCheck(readme, typedSnippetUrl)
}

/**
 * The checks of an adapter whose error table is by gRPC status (`| 16 \`UNAUTHENTICATED\` | codes | when |`,
 * grpc-js and Connect): every code a row names has that status, every code a client can get as 7 or 16
 * is covered, each row's name is `nameOf(status)` (the framework's own name of the number), and the
 * Usage snippet is the one `typedSnippetUrl` type-checks.
 */
export function grpcReadmeChecks(
  readmeUrl: URL,
  typedSnippetUrl: URL,
  nameOf: (status: number) => string | undefined,
): void {
  const readme = readFileSync(readmeUrl, 'utf8')

  function rows() {
    const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## Caveats'))
    return section
      .split('\n')
      .filter((l) => /^\|\s*\d+ `[A-Za-z_]+`\s*\|/.test(l))
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

  test("every row's status name is the framework's name of its number", () => {
    for (const row of rows()) expect(row.name, String(row.grpc)).toBe(nameOf(row.grpc))
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

  readmeUsageCheck(readme, typedSnippetUrl)
}

/** The first `ts` block under `## Usage` of `readme` is the file `typedSnippetUrl` type-checks. */
export function readmeUsageCheck(readme: string, typedSnippetUrl: URL): void {
  test('the Usage snippet is the one the type tests type-check', () => {
    const usage = readme.slice(readme.indexOf('## Usage'))
    const snippet = usage.slice(usage.indexOf('```ts') + 5, usage.indexOf('```', usage.indexOf('```ts') + 5))
    const typed = readFileSync(typedSnippetUrl, 'utf8')
    // Compared without blanks and trailing commas; imports as a set (the formatter sorts them).
    const normalize = (text: string) => {
      const imports = [...text.matchAll(/^import [^;]*?from '[^']+'/gms)]
        .map((m) => m[0].replace(/\s+/g, ''))
        .sort()
      const rest = text
        .replace(/^import [^;]*?from '[^']+'/gms, '')
        .split('\n')
        .filter((l) => !l.startsWith('//') && !l.startsWith('declare const'))
        .join('\n')
        .replace(/\s+/g, '')
        .replace(/,(?=[)\]}])/g, '')
      return { imports, rest }
    }
    expect(normalize(snippet)).toEqual(normalize(typed))
  })
}
