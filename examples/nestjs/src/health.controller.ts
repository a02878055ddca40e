import { Controller, Get } from '@nestjs/common'
import { Public } from '@svidkit/nestjs'

@Controller()
export class HealthController {
  @Public() // no caller needed: the guard does not even look at credentials
  @Get('healthz')
  health() {
    return 'ok'
  }
}
