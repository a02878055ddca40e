import Fastify from 'fastify'
import Fastify4 from 'fastify4'
import { expect, test } from 'vitest'
import { fastifyAdapter } from './adapters/fastify.js'
import { runScenarios } from './harness/run-scenarios.js'

const fastify4 = Fastify4 as unknown as typeof Fastify

test('the Fastify majors under test', () => {
  expect(Fastify().version).toMatch(/^5\./)
  expect(fastify4().version).toMatch(/^4\./)
})

runScenarios(fastifyAdapter('@svidkit/fastify on Fastify 5', Fastify))
runScenarios(fastifyAdapter('@svidkit/fastify on Fastify 4', fastify4))
