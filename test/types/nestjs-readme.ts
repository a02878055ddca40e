import { Controller, Delete, Get, Module, Param, Post } from '@nestjs/common'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import { Caller, OptionalCaller, Public, RequireCaller, RequireScopes, SvidkitModule } from '@svidkit/nestjs'

// The Usage snippet of packages/nestjs/README.md, type-checked (keep the two in sync).

// Every handler of this controller needs a caller of example.org (mTLS, XFCC from a trusted proxy,
// JWT-SVID or OIDC, as configured), then meets the policy.
@RequireCaller({ trustDomains: ['example.org'] })
@Controller('orders')
export class OrdersController {
  @Get(':id')
  find(@Param('id') id: string, @Caller() caller: Caller) {
    return caller.channel === 'oidc'
      ? { id, user: caller.principal.sub }
      : { id, workload: caller.spiffeId.toString(), via: caller.channel }
  }

  // Adds a scope to the controller's requirement (from the JWT-SVID's scope or scp claim).
  @RequireScopes('orders:write')
  @Post()
  create(@Caller() caller: Caller) {
    return {
      created: true,
      by: caller.channel === 'oidc' ? caller.principal.sub : caller.spiffeId.toString(),
    }
  }

  // Replaces the controller's requirement for this handler.
  @RequireCaller({ callers: ['spiffe://example.org/ns/ops/sa/admin'] })
  @Delete(':id')
  remove(@Param('id') id: string) {
    return { deleted: id }
  }

  // Anonymous callers get through without a caller; bad credentials are still refused.
  @OptionalCaller()
  @Get()
  list(@Caller() caller: Caller | undefined) {
    return { orders: [], personalised: caller !== undefined }
  }
}

@Controller()
export class HealthController {
  @Public()
  @Get('healthz')
  health() {
    return 'ok'
  }
}

@Module({
  imports: [
    SvidkitModule.forRoot({
      source: true, // the Workload API (SPIFFE_ENDPOINT_SOCKET): our SVID and the trust bundles
      jwt: { audience: 'spiffe://example.org/ns/shop/sa/orders' },
      identityTemplates: ['/ns/{namespace}/sa/{serviceAccount}'],
      authorizer: createPolicyAuthorizer(loadPolicyFile('policy.yaml')),
    }),
  ],
  controllers: [OrdersController, HealthController],
})
export class AppModule {}
