import { type DynamicModule, Module } from '@nestjs/common'
import { jsonLinesSink } from '@svidkit/core/audit'
import { createPolicyAuthorizer, loadPolicyFile } from '@svidkit/core/policy'
import type { X509Source } from '@svidkit/core/workload-api'
import { SvidkitModule } from '@svidkit/nestjs'
import { HealthController } from './health.controller.js'
import { OrdersController } from './orders.controller.js'

@Module({})
export class AppModule {
  static withSource(source: X509Source): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // The global guard: every handler needs a verified caller unless it says otherwise. The
        // source gives the bundles and our own ID; the module closes it when the app shuts down.
        SvidkitModule.forRoot({
          source,
          authorizer: createPolicyAuthorizer(loadPolicyFile(new URL('../policy.yaml', import.meta.url))),
          audit: { sink: jsonLinesSink(process.env.AUDIT_LOG ?? 'audit.jsonl') },
        }),
      ],
      controllers: [OrdersController, HealthController],
    }
  }
}
