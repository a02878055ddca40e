// Every adapter the resilience suite runs against. A new adapter implements `ResilienceAdapter`
// (../service.ts) in its own file and is added here; every test that loops over `adapters` then runs
// against it too.
import type { ResilienceAdapter } from '../service.js'
import { connectAdapter } from './connect.js'
import { expressAdapter } from './express.js'
import { fastifyAdapter } from './fastify.js'
import { grpcAdapter } from './grpc.js'
import { nestjsAdapter } from './nestjs.js'

export const adapters: readonly ResilienceAdapter[] = [
  fastifyAdapter,
  expressAdapter,
  nestjsAdapter,
  grpcAdapter,
  connectAdapter,
]
