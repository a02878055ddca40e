// Starts this example (dev agent, dist/main.js in its own process, callers with their own SVIDs) on
// Express and on Fastify, and checks one allowed and one refused call, the public health check, and
// that the README shows the sources as they are (see ../kit).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildPackages, startExample, workloads } from '@svidkit-examples/kit'
import { beforeAll, describe, expect, test } from 'vitest'

const here = new URL('.', import.meta.url)

beforeAll(() => {
  buildPackages()
  execFileSync(
    process.execPath,
    [fileURLToPath(import.meta.resolve('typescript/bin/tsc')), '-p', 'tsconfig.json'],
    {
      cwd: fileURLToPath(here),
      stdio: 'inherit',
    },
  )
}, 300_000)

describe.each(['express', 'fastify'])('on %s', (platform) => {
  test('web (same namespace) reads an order; batch (another namespace) is refused by the policy', async () => {
    process.env.PLATFORM = platform
    const example = await startExample(new URL('dist/main.js', here))
    try {
      expect(await example.call('web', '/orders/42')).toEqual({
        status: 200,
        body: { order: '42', caller: workloads.web },
      })
      expect(await example.call('batch', '/orders/42')).toMatchObject({
        status: 403,
        body: { code: 'ERR_ACCESS_DENIED', message: expect.stringContaining('shop-reads-orders') },
      })
      // @Public(): no requirement, no policy.
      expect(await example.call('web', '/healthz')).toEqual({ status: 200, body: 'ok' })
    } finally {
      delete process.env.PLATFORM
      await example.close()
    }
  })
})

test('the README shows the sources as they are', () => {
  const readme = readFileSync(new URL('README.md', here), 'utf8')
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!.trim())
  for (const file of [
    'src/main.ts',
    'src/app.module.ts',
    'src/orders.controller.ts',
    'src/health.controller.ts',
  ]) {
    expect(blocks, file).toContain(readFileSync(new URL(file, here), 'utf8').trim())
  }
})
