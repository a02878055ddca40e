// examples/grpc as a smoke test: the order service and its client, each as a real process on the
// built packages (dist/, brought up to date here with `tsc -b`, a no-op after `pnpm build`), with the
// dev Workload API agent. The demo exits 0 only when the read was allowed and the delete refused.
import { execFileSync, spawn } from 'node:child_process'
import { join } from 'node:path'
import { beforeAll, expect, test } from 'vitest'

const root = join(import.meta.dirname, '..', '..')

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json'], {
    cwd: root,
    stdio: 'inherit',
  })
}, 300_000)

function runExample(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['server.mjs', '--demo'], {
      cwd: join(root, 'examples/grpc'),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

test('the gRPC example: one call allowed, one refused by the policy', { timeout: 90_000 }, async () => {
  const { code, output } = await runExample()
  expect(output).toMatch(/\[server\] listening on 127\.0\.0\.1:\d+ as spiffe:\/\/example\.org\/orders/)
  expect(output).toContain(
    'GetOrder 42 → {"id":42,"item":"a blue teapot","servedTo":"spiffe://example.org/web"}',
  )
  expect(output).toContain('allow /orders.v1.Orders/GetOrder for spiffe://example.org/web (rule read-orders)')
  expect(output).toContain('DeleteOrder 42 → PERMISSION_DENIED (7): ERR_ACCESS_DENIED: authz: ')
  expect(output).not.toMatch(/Warning|Error:/)
  expect(code, output).toBe(0)
})
