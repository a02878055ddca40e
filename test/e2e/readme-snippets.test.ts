// The adapter READMEs' Usage snippets run, not just type-check: each typed copy (test/types/<adapter>-
// readme.ts, which the README test keeps equal to the README) is stripped of its types by esbuild and
// started as a service on the dev agent, listening on 127.0.0.1 instead of 0.0.0.0:8443. Then one
// allowed call, one refused by a route requirement and one refused for a missing scope, over mTLS.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildPackages, startExample, workloads } from '@svidkit-examples/kit'
import { transformSync } from 'esbuild'
import { beforeAll, describe, expect, test } from 'vitest'

// Inside test/e2e's node_modules, so the snippet's imports resolve to the workspace packages.
const dir = join(import.meta.dirname, 'node_modules', '.cache', 'svidkit-readme-snippets')

beforeAll(() => buildPackages(), 300_000)

/** The runnable JavaScript of a README snippet: loopback, any port, and a line saying where it listens. */
function runnable(adapter: 'fastify' | 'express'): string {
  const ts = readFileSync(join(import.meta.dirname, '..', 'types', `${adapter}-readme.ts`), 'utf8')
  const [from, to, announce] =
    adapter === 'fastify'
      ? [
          "{ host: '0.0.0.0', port: 8443 }",
          "{ host: '127.0.0.1', port: 0 }",
          "console.log('listening on https://127.0.0.1:' + app.server.address().port)",
        ]
      : [
          'server.listen(8443)',
          "server.listen(0, '127.0.0.1')",
          "server.once('listening', () => console.log('listening on https://127.0.0.1:' + server.address().port))",
        ]
  expect(ts, 'the snippet listens where the README says').toContain(from)
  const js = transformSync(ts.replace(from, to), { loader: 'ts', format: 'esm', target: 'node20' }).code
  return `${js}\n${announce}\n`
}

describe.each(['fastify', 'express'] as const)('the %s README Usage snippet', (adapter) => {
  test('runs: a same-namespace caller is served; another namespace and a missing scope are refused', async () => {
    mkdirSync(join(dir, adapter), { recursive: true })
    const file = join(dir, adapter, 'server.mjs')
    writeFileSync(file, runnable(adapter))
    // The policy the snippet loads from its working directory: anyone of example.org (routes add more).
    writeFileSync(
      join(dir, adapter, 'policy.yaml'),
      'rules:\n  - id: example-org\n    from: [{ trustDomains: [example.org] }]\n',
    )
    const example = await startExample(new URL(`file://${file}`))
    try {
      expect(await example.call('web', '/same-namespace')).toEqual({
        status: 200,
        body: { caller: workloads.web },
      })
      expect(await example.call('batch', '/same-namespace')).toMatchObject({
        status: 403,
        body: { code: 'ERR_ACCESS_DENIED' },
      })
      // An mTLS caller holds no scopes: the scope requirement refuses it.
      expect(await example.call('web', '/orders')).toMatchObject({
        status: 403,
        body: { code: 'ERR_SCOPE_MISSING' },
      })
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- server output ---\n${example.output()}`)
    } finally {
      await example.close()
    }
  })
})
