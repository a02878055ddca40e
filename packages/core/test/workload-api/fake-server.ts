// A scripted Workload API server for the cases the dev agent never produces (malformed messages,
// bare trust domain keys, duplicate hints, clean stream ends, arbitrary status codes).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js'
import { workloadApiServiceDefinition } from '@svidkit/core/workload-api/proto'

export interface FakeServer {
  readonly address: string
  close(): Promise<void>
}

export async function startFakeServer(impl: UntypedServiceImplementation): Promise<FakeServer> {
  const dir = mkdtempSync(join(tmpdir(), 'svidkit-fake-'))
  const path = join(dir, 'fake.sock')
  const server = new Server()
  server.addService(workloadApiServiceDefinition, impl)
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(`unix:${path}`, ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  )
  return {
    address: `unix://${path}`,
    close: async () => {
      server.forceShutdown()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
