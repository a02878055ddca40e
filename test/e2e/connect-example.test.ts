// examples/connect as a smoke test: the Connect order service and its gRPC client, each as a real
// process on the built packages, with the dev Workload API agent.
import { beforeAll, expect, test } from 'vitest'
import { buildPackages, runExampleDemo } from './harness/run-example.js'

beforeAll(buildPackages, 300_000)

test('the Connect example: one call allowed, one refused by the policy', { timeout: 90_000 }, async () => {
  const { code, output } = await runExampleDemo('connect')
  expect(output).toMatch(
    /\[server\] listening on https:\/\/127\.0\.0\.1:\d+ as spiffe:\/\/example\.org\/orders/,
  )
  expect(output).toContain(
    'GetOrder 42 → {"id":42,"item":"a blue teapot","servedTo":"spiffe://example.org/web"}',
  )
  expect(output).toContain('allow /orders.v1.Orders/GetOrder for spiffe://example.org/web (rule read-orders)')
  expect(output).toContain(
    'deny /orders.v1.Orders/DeleteOrder for spiffe://example.org/web: no rule allowed gRPC /orders.v1.Orders/DeleteOrder',
  )
  expect(output).toContain('DeleteOrder 42 → PermissionDenied (7) ERR_ACCESS_DENIED: authz: ')
  expect(output).not.toMatch(/Warning|Error:/)
  expect(code, output).toBe(0)
})
