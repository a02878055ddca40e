// The caller-scenario table over real grpc-js servers: @svidkit/grpc's interceptor on its SVID listener
// (serveSvid), each scenario sent as a real gRPC call over TLS. Run with grpc-js 1.14 here (project
// e2e) and with 1.11, the oldest supported minor (project grpc-js-1.11).
import * as grpc from '@grpc/grpc-js'
import { expect, test } from 'vitest'
import { grpcAdapter } from './adapters/grpc.js'
import { runScenarios } from './harness/run-scenarios.js'

const expected = process.env.SVIDKIT_GRPC_JS === '1.11' ? /^1\.11\./ : /^1\.14\./

test('the grpc-js version under test', async () => {
  const { version } = (await import('@grpc/grpc-js/package.json', { with: { type: 'json' } })).default
  expect(version).toMatch(expected)
  expect(grpc.Server.prototype.createConnectionInjector).toBeTypeOf('function')
})

runScenarios(grpcAdapter(`@svidkit/grpc on grpc-js ${process.env.SVIDKIT_GRPC_JS ?? '1.14'}`))
