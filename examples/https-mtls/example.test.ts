// Runs the example as its README says (`node server.mjs --demo`: the dev agent, the server, and the
// client for /web and /batch) and checks the allowed and the refused call.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { buildPackages } from '@svidkit-examples/kit'
import { beforeAll, expect, test } from 'vitest'

beforeAll(() => buildPackages(), 300_000)

test('/web gets 200 from the server; /batch is refused at the handshake', () => {
  const run = spawnSync(process.execPath, ['server.mjs', '--demo'], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    encoding: 'utf8',
    timeout: 50_000,
  })
  const output = `${run.stdout}${run.stderr}`
  expect(output).toMatch(
    /\[client spiffe:\/\/example\.org\/web\] 200: hello spiffe:\/\/example\.org\/web, this is spiffe:\/\/example\.org\/api/,
  )
  expect(output).toContain('[server] refused spiffe://example.org/batch: ERR_TLS_PEER_NOT_AUTHORIZED')
  expect(output).toMatch(/\[client spiffe:\/\/example\.org\/batch\] refused by the server/)
  expect(run.status, output).toBe(0)
})
