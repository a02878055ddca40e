import * as grpc from '@grpc/grpc-js'
import type { CallerVerifierOptions } from '@svidkit/core/caller'
import { createPolicyAuthorizer, definePolicy, type PolicyRule } from '@svidkit/core/policy'
import { StaticSource } from '@svidkit/core/source'
import { callerOf, type RouteRequirement, serveSvid, svidInterceptor } from '@svidkit/grpc'
import { callerView, type E2eAdapter, routeAuthSpecOf } from '../harness/adapter.js'
import { POLICY } from '../harness/fixtures.js'
import { grpcClient, grpcMethodOf, jsonUnaryMethod } from '../harness/grpc-client.js'

/**
 * The table's global policy names HTTP paths (`to: [{ paths: ['/policy'] }]`); over gRPC the same
 * rules name the methods those paths map to (`grpcMethods`), so the policy engine matches real gRPC
 * operations, as a gRPC service's policy would.
 */
export const GRPC_POLICY = createPolicyAuthorizer(
  definePolicy({
    ...POLICY.document,
    rules: POLICY.document.rules.map(
      (rule): PolicyRule => ({
        ...rule,
        ...(rule.to
          ? { to: rule.to.map((op) => ({ grpcMethods: (op.paths ?? []).map(grpcMethodOf) })) }
          : {}),
      }),
    ),
  }),
)

/**
 * `@svidkit/grpc` on a real grpc-js server (the `@grpc/grpc-js` this process resolves: 1.14, or 1.11
 * in the `grpc-js-1.11` project), served by `serveSvid` with the client certificate requested and
 * verified per call, so every scenario gets a gRPC status. Each route is a unary method.
 */
export function grpcAdapter(name: string): E2eAdapter {
  return {
    name,
    client: grpcClient,
    async start(config) {
      const methods: Record<string, RouteRequirement> = {}
      const service: Record<string, grpc.MethodDefinition<unknown, unknown>> = {}
      const handlers: grpc.UntypedServiceImplementation = {}
      for (const route of config.routes) {
        const path = grpcMethodOf(route.path)
        const spec = routeAuthSpecOf(route.access)
        if (spec) methods[path] = spec
        service[path] = jsonUnaryMethod(path)
        handlers[path] = (
          call: grpc.ServerUnaryCall<unknown, unknown>,
          callback: grpc.sendUnaryData<unknown>,
        ) => callback(null, { caller: callerView(callerOf(call)) })
      }
      const verifier: CallerVerifierOptions = config.verifier.authorizer
        ? { ...config.verifier, authorizer: GRPC_POLICY }
        : config.verifier
      const server = new grpc.Server({ interceptors: [svidInterceptor({ ...verifier, methods })] })
      server.addService(service, handlers)
      const source = new StaticSource({ svid: config.svid })
      const listener = await serveSvid(server, {
        address: `${config.host}:0`,
        source,
        clientCertificate: 'requested',
      })
      return {
        url: `https://${config.host}:${listener.port}`,
        async close() {
          await listener.close({ graceMs: 0 })
          server.forceShutdown()
          await source.close()
        },
      }
    },
  }
}
