// The payments API, on NestJS (Express platform): spiffe://demo.svidkit.dev/tenant/acme/ns/finance/sa/payments.
//
// - Its X.509-SVID and trust bundles come from the Workload API ($SPIFFE_ENDPOINT_SOCKET), live; the
//   bundles include partner.example's, which the agent delivers as a federated bundle.
// - It terminates mTLS itself: Nest's HTTPS server with core's createMtlsServerConfig, in `requested`
//   mode: every TLS client is let in and the guard judges its certificate per request, so a caller of
//   an untrusted trust domain or with an expired SVID gets a 401 with the reason (and an audit event)
//   instead of a failed handshake.
// - @svidkit/nestjs's global guard names every caller (a JWT-SVID bearer token for the same workload,
//   or the client certificate), applies the controller's requirement and policies/payments.yaml.
// - Capturing a payment records it in the ledger over gRPC, with our X.509-SVID and a JWT-SVID for
//   the ledger on the call.
//
// Compiled to services/payments.js by run.mjs (tsc -b examples/demo), then run like the other services:
//   SPIFFE_ENDPOINT_SOCKET=unix:///…/payments.sock node services/payments.js
import 'reflect-metadata'
import { fileURLToPath } from 'node:url'
import { Controller, Get, Inject, Module, type NestApplicationOptions, Param, Post } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { Caller, RequireCaller, SvidkitModule } from '@svidkit/nestjs'
import { callLedger, type LedgerClient, ledgerClient } from './ledger-api.mjs'
import { closeOnExit, demoAuditor, IDENTITY_TEMPLATE, report, workloadIdentity } from './service-kit.mjs'

const POLICY = fileURLToPath(new URL('../policies/payments.yaml', import.meta.url))
const LEDGER = Symbol('ledger')

const { x509, jwt, bundles, selfId, svidInfo } = await workloadIdentity('payments')

const payments = new Map([['pay-1', { id: 'pay-1', order: '1001', cents: 12_900, state: 'authorized' }]])

// Every handler needs a caller of our trust domain or of the federated partner's (then the policy).
@RequireCaller({ trustDomains: ['demo.svidkit.dev', 'partner.example'] })
@Controller('payments')
class PaymentsController {
  constructor(@Inject(LEDGER) private readonly ledger: LedgerClient) {}

  @Get(':id')
  find(@Param('id') id: string, @Caller() caller: Caller) {
    return { servedTo: caller.spiffeId?.toString(), payment: payments.get(id) }
  }

  @Post(':id/capture')
  async capture(@Param('id') id: string, @Caller() caller: Caller) {
    const payment = payments.get(id)
    const entry = await callLedger(this.ledger, 'recordEntry', {
      account: 'acme',
      cents: payment?.cents ?? 0,
      reference: id,
    })
    return { servedTo: caller.spiffeId?.toString(), captured: entry.code === 0, ledger: entry }
  }

  @Post(':id/settle')
  settle(@Param('id') id: string, @Caller() caller: Caller) {
    return { servedTo: caller.spiffeId?.toString(), settled: id }
  }
}

@Module({
  imports: [
    SvidkitModule.forRoot({
      source: x509, // our SVID and X.509 bundles; closed with the application
      bundles, // X.509 bundles of the source, JWT bundles of the JwtSource
      channels: ['jwt', 'mtls'],
      jwt: { audience: selfId },
      identityTemplates: [IDENTITY_TEMPLATE],
      authorizer: createPolicyAuthorizer(loadPolicyFile(POLICY)),
      audit: demoAuditor('payments'),
      realm: 'payments',
    }),
  ],
  controllers: [PaymentsController],
  providers: [
    {
      provide: LEDGER,
      useValue: ledgerClient({
        address: process.env.LEDGER_ADDRESS!,
        ledgerId: process.env.LEDGER_ID!,
        x509,
        jwt, // a JWT-SVID for the ledger on every call, on top of mTLS
      }),
    },
  ],
})
class PaymentsModule {}

const mtls = createMtlsServerConfig({ source: x509, clientCertificate: 'requested' })
const app = await NestFactory.create(PaymentsModule, {
  // Nest types SNICallback more narrowly than node:tls does; the options are node's own.
  httpsOptions: mtls.serverOptions as NonNullable<NestApplicationOptions['httpsOptions']>,
  logger: ['error', 'warn'],
})
mtls.attach(app.getHttpServer()) // our SVID, rotated without a restart
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1')
report({
  type: 'ready',
  service: 'payments',
  id: selfId,
  serial: svidInfo().serial,
  url: (await app.getUrl()).replace('http:', 'https:').replace('[::1]', '127.0.0.1'),
})

closeOnExit(async () => {
  app.get<LedgerClient>(LEDGER).close()
  await app.close() // closes the X509Source too (the module's `source`)
  await jwt.close()
})
