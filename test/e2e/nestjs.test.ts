// The caller-scenario table on @svidkit/nestjs: Nest on Express, on Fastify, and as a gRPC
// microservice on SvidGrpcServer. Run with Nest 12 here (project e2e) and with Nest 11 (project
// nest-11, which points every @nestjs/* import at test/nest-11).
import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { nestAdapter, nestGrpcAdapter } from './adapters/nestjs.js'
import { runScenarios } from './harness/run-scenarios.js'

const major = process.env.SVIDKIT_NEST ?? '12'

test('the Nest major under test', async () => {
  for (const pkg of ['common', 'core', 'platform-express', 'platform-fastify']) {
    const { version } = (await import(`@nestjs/${pkg}/package.json`, { with: { type: 'json' } })).default
    expect(version, pkg).toMatch(new RegExp(`^${major}\\.`))
  }
  // @nestjs/microservices exports no package.json: read it where the project resolves it from.
  const dir = major === '11' ? '../nest-11' : '.'
  const microservices = new URL(`${dir}/node_modules/@nestjs/microservices/package.json`, import.meta.url)
  expect(JSON.parse(readFileSync(microservices, 'utf8')).version).toMatch(new RegExp(`^${major}\\.`))
})

runScenarios(nestAdapter(`@svidkit/nestjs on Nest ${major} (Express)`, 'express'))
runScenarios(nestAdapter(`@svidkit/nestjs on Nest ${major} (Fastify)`, 'fastify'))
runScenarios(nestGrpcAdapter(`@svidkit/nestjs on Nest ${major} (gRPC microservice)`))
