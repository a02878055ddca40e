// NestJS on Fastify: see nest.mjs.
import { serveNest } from './nest.mjs'

await serveNest('fastify')
