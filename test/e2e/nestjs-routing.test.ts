// The routing regression table on @svidkit/nestjs, on both HTTP platforms, with each router's default
// and loose settings: the policy decides for exactly the path and method the handler serves.
import { nestRoutingAdapter } from './adapters/nestjs.js'
import { runRoutingTable } from './harness/routing-table.js'

const major = process.env.SVIDKIT_NEST ?? '12'

runRoutingTable(nestRoutingAdapter(`@svidkit/nestjs on Nest ${major} (Express)`, 'express'))
runRoutingTable(nestRoutingAdapter(`@svidkit/nestjs on Nest ${major} (Fastify)`, 'fastify'))
