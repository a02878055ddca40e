// The routing regression table (harness/routing-table.ts) on every HTTP adapter, with each router's
// default and loose settings.
import express from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import Fastify4 from 'fastify4'
import { expressRoutingAdapter } from './adapters/express.js'
import { fastifyRoutingAdapter } from './adapters/fastify.js'
import { runRoutingTable } from './harness/routing-table.js'

runRoutingTable(fastifyRoutingAdapter('@svidkit/fastify on Fastify 5', Fastify, 5))
runRoutingTable(
  fastifyRoutingAdapter('@svidkit/fastify on Fastify 4', Fastify4 as unknown as typeof Fastify, 4),
)
runRoutingTable(expressRoutingAdapter('@svidkit/express on Express 5', express))
runRoutingTable(expressRoutingAdapter('@svidkit/express on Express 4', express4))
