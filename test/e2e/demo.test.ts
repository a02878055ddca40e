// The demo (examples/demo) as a smoke test: the real `svidkit agent` CLI, the Fastify and Express
// services in their own processes, nginx, and the built packages (dist/, brought up to date here with
// `tsc -b`, which is a no-op when `pnpm build` already ran). It must exit 0, which it does only when
// every call got the outcome it expects, and leave nothing behind.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, expect, test } from 'vitest'

const root = join(import.meta.dirname, '..', '..')

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json'], {
    cwd: root,
    stdio: 'inherit',
  })
}, 300_000)

function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'examples/demo/run.mjs')], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, output }))
  })
}

// Generous: a first run may install nginx with apt-get (outside CI, a missing nginx is a skip).
test('the demo runs end to end: every call gets the expected outcome', { timeout: 300_000 }, async () => {
  const { code, output } = await runDemo()
  expect(output, output).toMatch(/✔ \d+ calls: \d+ allowed and \d+ denied as expected/)
  expect(code, output).toBe(0)

  const nginx = !/nginx {3}not available/.test(output)
  expect(output).toMatch(nginx ? /✔ 12 calls: 6 allowed and 6 denied as expected \(/ : /✔ 9 calls: 4 allowed/)
  // The real CLI started the agent, and the services saw the callers as they should.
  expect(output).toContain('svidkit dev agent for demo.svidkit.dev')
  expect(output).toContain('✔ 200 · spiffe://demo.svidkit.dev/tenant/acme/ns/shop/sa/web via mtls')
  expect(output).toContain('✔ 200 · spiffe://demo.svidkit.dev/tenant/acme/ns/ops/sa/admin-cli via jwt')
  expect(output).toContain('denied by rule "tenant-isolation"')
  expect(output).toContain('denied by rule "no-bulk-export"')
  expect(output).toContain('403 ERR_SCOPE_MISSING')
  expect(output).toContain('401 ERR_FORWARDED_CERT_UNTRUSTED_PEER')
  if (nginx) {
    expect(output).toContain('✔ 200 · spiffe://demo.svidkit.dev/tenant/acme/ns/shop/sa/web via xfcc')
    expect(output).toContain('nginx reloaded')
  }

  // Torn down: the temp dir (sockets, nginx files) is gone.
  const dir = /--config (\S+)\/agent\.yaml/.exec(output)?.[1]
  expect(dir, output).toBeDefined()
  expect(existsSync(dir!)).toBe(false)
})
