import { Controller, Get, Param, Post } from '@nestjs/common'
import { Caller, RequireCaller, RequireScopes } from '@svidkit/nestjs'

// Every handler here needs a caller of example.org (the global guard checks it, then the policy).
@RequireCaller({ trustDomains: ['example.org'] })
@Controller('orders')
export class OrdersController {
  @Get(':id')
  find(@Param('id') id: string, @Caller() caller: Caller) {
    return { order: id, caller: caller.spiffeId?.toString() }
  }

  // This handler also needs the orders:write scope (from a JWT-SVID).
  @RequireScopes('orders:write')
  @Post()
  create(@Caller() caller: Caller) {
    return { created: true, caller: caller.spiffeId?.toString() }
  }
}
