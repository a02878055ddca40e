// A TypeScript consumer of the installed tarballs, type-checked with `moduleResolution` node16 (as an
// ES module and as CommonJS) and bundler, without skipLibCheck: our declarations must hold up as users
// compile them. Never run.
import https from 'node:https'
import type { HandlerContext } from '@connectrpc/connect'
import { connectNodeAdapter } from '@connectrpc/connect-node'
import { callerOf, createSvidkitInterceptor, svidkitContextValues } from '@svidkit/connect'
import {
  type Caller,
  createCallerVerifier,
  matchMemberOf,
  type SpiffeId,
  type SvidkitError,
} from '@svidkit/core'
import { type AuditEvent, jsonLinesSink } from '@svidkit/core/audit'
import type { ErrorCode } from '@svidkit/core/errors'
import { createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { X509Source } from '@svidkit/core/workload-api'
import { requireScopes, svid } from '@svidkit/express'
import { svidkitFastify } from '@svidkit/fastify'
import type { TestCA } from '@svidkit/testing'
import express from 'express'
import Fastify from 'fastify'

export async function fastifyService(): Promise<string | undefined> {
  const source = await X509Source.create()
  const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('example.org') })
  const app = Fastify({
    serverFactory: (handler) => mtls.attach(https.createServer(mtls.serverOptions, handler)),
  })
  await app.register(svidkitFastify, {
    bundles: source,
    self: source,
    authorizer: createPolicyAuthorizer(definePolicy({ rules: [{ id: 'all' }] })),
    audit: { sink: jsonLinesSink('audit.jsonl') },
  })
  app.get('/', { config: { svid: { scopes: ['orders:read'] } } }, (request) => {
    // The augmentation types request.caller.
    const caller: Caller | undefined = request.caller
    return caller?.spiffeId?.toString()
  })
  return app.hasRoute({ method: 'GET', url: '/' }) ? 'ok' : undefined
}

export function expressService(bundles: ReturnType<TestCA['bundleSet']>): express.Express {
  const app = express()
  app.use(svid({ bundles, jwt: { audience: 'orders' } }))
  app.get('/orders', requireScopes('orders:read'), (req, res) => {
    const id: SpiffeId | undefined = req.caller?.spiffeId
    res.json({ caller: id?.toString() })
  })
  return app
}

export function codeOf(err: SvidkitError): ErrorCode {
  return err.code
}

export const verifier = createCallerVerifier({ bundles: [] })
export const seen: AuditEvent['decision'][] = ['allow', 'deny']

export function connectHandler(bundles: ReturnType<TestCA['bundleSet']>) {
  const who = (ctx: HandlerContext): string => {
    const caller = callerOf(ctx)
    return caller.channel === 'oidc' ? caller.principal.sub : caller.spiffeId.toString()
  }
  return {
    who,
    handler: connectNodeAdapter({
      routes: () => undefined,
      interceptors: [
        createSvidkitInterceptor({ bundles, methods: { '/grpc.health.v1.Health/*': { public: true } } }),
      ],
      contextValues: svidkitContextValues,
    }),
  }
}
