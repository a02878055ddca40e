// A NestJS service with svidkit: run it with SPIFFE_ENDPOINT_SOCKET pointing at a Workload API (a
// SPIRE agent; `node run.mjs` starts the dev agent and two callers for you). PLATFORM=fastify runs it
// on Fastify instead of Express.
import 'reflect-metadata'
import type { INestApplication, NestApplicationOptions } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { X509Source } from '@svidkit/core/workload-api'
import { AppModule } from './app.module.js'

const source = await X509Source.create() // our X.509-SVID and bundles, rotated by the agent
const mtls = createMtlsServerConfig({ source, authorize: matchMemberOf('example.org') })
// Nest types SNICallback more narrowly than node:tls does; the options are node's own.
const httpsOptions = mtls.serverOptions as NonNullable<NestApplicationOptions['httpsOptions']>

const app: INestApplication =
  process.env.PLATFORM === 'fastify'
    ? await NestFactory.create(AppModule.withSource(source), new FastifyAdapter({ https: httpsOptions }))
    : await NestFactory.create(AppModule.withSource(source), { httpsOptions })
mtls.attach(app.getHttpServer()) // our SVID, rotation, and each client's chain verified in the handshake
app.enableShutdownHooks()

await app.listen(Number(process.env.PORT ?? 8443), '127.0.0.1')
console.log(`listening on ${(await app.getUrl()).replace('http:', 'https:')}`)
