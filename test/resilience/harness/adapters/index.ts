// Every adapter the resilience suite runs against. A new adapter (gRPC, NestJS) implements
// `ResilienceAdapter` (../service.ts) in its own file and is added here; every test that loops over
// `adapters` then runs against it too.
import type { ResilienceAdapter } from '../service.js'
import { expressAdapter } from './express.js'
import { fastifyAdapter } from './fastify.js'

export const adapters: readonly ResilienceAdapter[] = [fastifyAdapter, expressAdapter]
