import http2 from 'node:http2'
import { create, createFileRegistry, type DescMethod, type DescService, fromJson } from '@bufbuild/protobuf'
import { FileDescriptorProtoSchema, file_google_protobuf_struct, StructSchema } from '@bufbuild/protobuf/wkt'
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect'
import { connectNodeAdapter } from '@connectrpc/connect-node'
import {
  callerKey,
  createSvidkitInterceptor,
  type RouteRequirement,
  svidkitContextValues,
} from '@svidkit/connect'
import type { CallerVerifierOptions } from '@svidkit/core/caller'
import { StaticSource } from '@svidkit/core/source'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import {
  callerView,
  type E2eAdapter,
  type E2eClient,
  type E2eRoute,
  routeAuthSpecOf,
} from '../harness/adapter.js'
import { grpcMethodOf } from '../harness/grpc-client.js'
import { listenHttp2 } from '../harness/listen-http2.js'
import { GRPC_POLICY } from './grpc.js'

/**
 * A Connect service built at runtime from a FileDescriptorProto (no code generation): `typeName`
 * (`package.Service`) with one unary method per name, each from `google.protobuf.Struct` to
 * `google.protobuf.Struct`, so requests and replies are plain JSON objects in the Connect protocol's
 * and gRPC's JSON codecs alike. Also used by the resilience suite's Connect adapter.
 */
export function structService(typeName: string, methodNames: readonly string[]): DescService {
  const dot = typeName.lastIndexOf('.')
  const pkg = typeName.slice(0, dot)
  const file = create(FileDescriptorProtoSchema, {
    name: `${pkg.replaceAll('.', '/')}/service.proto`,
    package: pkg,
    dependency: ['google/protobuf/struct.proto'],
    syntax: 'proto3',
    service: [
      {
        name: typeName.slice(dot + 1),
        method: methodNames.map((name) => ({
          name,
          inputType: '.google.protobuf.Struct',
          outputType: '.google.protobuf.Struct',
        })),
      },
    ],
  })
  const registry = createFileRegistry(file, (name) =>
    name === 'google/protobuf/struct.proto' ? file_google_protobuf_struct : undefined,
  )
  return registry.getService(typeName)!
}

/** The table's routes as one Connect service: `/whoami` → `svidkit.e2e.Routes/Whoami`. */
export function routesService(routes: readonly E2eRoute[]): DescService {
  return structService(
    'svidkit.e2e.Routes',
    routes.map((route) => grpcMethodOf(route.path).split('/')[2]!),
  )
}

/**
 * `@svidkit/connect` on a real connect-node server (`connectNodeAdapter` on `http2.createSecureServer`
 * with HTTP/1.1 allowed), behind core's `createMtlsServerConfig` with the client certificate requested
 * and verified per call by the interceptor, so every scenario gets a status. The server presents its
 * X.509-SVID. The table's global policy is given with its paths mapped to methods (`grpcMethods`),
 * as for `@svidkit/grpc`: the operation is the gRPC method whatever the protocol. `client` picks the
 * protocol the table speaks: gRPC (`grpcJsonClient`) or Connect (`connectClient`).
 */
export function connectAdapter(name: string, client: E2eClient): E2eAdapter {
  return {
    name,
    client,
    async start(config) {
      const service = routesService(config.routes)
      const methods: Record<string, RouteRequirement> = {}
      for (const route of config.routes) {
        const spec = routeAuthSpecOf(route.access)
        if (spec) methods[grpcMethodOf(route.path)] = spec
      }
      const verifier: CallerVerifierOptions = config.verifier.authorizer
        ? { ...config.verifier, authorizer: GRPC_POLICY }
        : config.verifier
      const reply = (_req: unknown, ctx: HandlerContext) =>
        fromJson(StructSchema, { caller: callerView(ctx.values.get(callerKey)) as never })
      const routes = (router: ConnectRouter) => {
        for (const method of service.methods as DescMethod[]) router.rpc(method as never, reply as never)
      }
      const handler = connectNodeAdapter({
        routes,
        interceptors: [createSvidkitInterceptor({ ...verifier, methods })],
        contextValues: svidkitContextValues,
      })
      const source = new StaticSource({ svid: config.svid })
      const mtls = createMtlsServerConfig({ source, clientCertificate: 'requested' })
      const server = mtls.attach(
        http2.createSecureServer({ ...mtls.serverOptions, allowHTTP1: true }, handler),
      )
      const listening = await listenHttp2(server, config.host)
      return {
        url: `https://${config.host}:${listening.port}`,
        async close() {
          await listening.close()
          await source.close()
        },
      }
    },
  }
}
