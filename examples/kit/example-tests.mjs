// The tests every framework example runs (example.test.ts): start it and check one allowed and one
// refused call over real mTLS on 127.0.0.1, and check that its README shows server.mjs as it is.
import { readFileSync } from 'node:fs'
import { beforeAll, expect, test } from 'vitest'
import { buildPackages, startExample, workloads } from './index.mjs'

/** @param {URL} serverFile */
export function exampleTests(serverFile) {
  beforeAll(() => buildPackages(), 300_000)

  test('web (same namespace) reads an order; batch (another namespace) is refused by the policy', async () => {
    const example = await startExample(serverFile)
    try {
      expect(await example.call('web', '/orders/42')).toEqual({
        status: 200,
        body: { order: '42', caller: workloads.web },
      })
      expect(await example.call('batch', '/orders/42')).toMatchObject({
        status: 403,
        body: { code: 'ERR_ACCESS_DENIED', message: expect.stringContaining('shop-reads-orders') },
      })
    } finally {
      await example.close()
    }
  })

  test('the README shows server.mjs as it is', () => {
    const server = readFileSync(serverFile, 'utf8')
    const readme = readFileSync(new URL('README.md', serverFile), 'utf8')
    const block = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    const code = (text) => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('//'))
    expect(code(block)).toEqual(code(server))
  })
}
