// @svidkit/nestjs's public types: the module's options and extras, the decorators' argument types, and
// `Caller` as both the parameter decorator and core's caller type.
import type { CallerVerifier } from '@svidkit/core/caller'
import {
  Caller,
  type callerOf,
  RequireCaller,
  RequireScopes,
  type SVIDKIT_VERIFIER,
  SvidkitModule,
  type SvidkitModuleOptions,
} from '@svidkit/nestjs'
import { SvidGrpcServer } from '@svidkit/nestjs/grpc'
import { assertType, type Equal } from './assert.js'

declare const verifier: CallerVerifier

// Options: core's verifier options with bundles optional (a source stands in), or a ready verifier.
SvidkitModule.forRoot({ source: true })
SvidkitModule.forRoot({ verifier, realm: 'orders', globalGuard: false, isGlobal: false })
SvidkitModule.forRootAsync({ useFactory: (): SvidkitModuleOptions => ({ source: true }), globalGuard: false })
// @ts-expect-error: defaultMode is one of three
SvidkitModule.forRoot({ source: true, defaultMode: 'sometimes' })
// @ts-expect-error: scopes is a list or { anyOf } / { allOf }
RequireCaller({ scopes: 'orders:read' })
RequireScopes('orders:read', 'orders:write')

// `Caller` is the decorator and core's type.
const decorate: ParameterDecorator = Caller()
declare const caller: Caller
if (caller.channel === 'oidc') assertType<Equal<typeof caller.principal.sub, string>>()
else assertType<Equal<ReturnType<typeof caller.spiffeId.toString>, string>>()
assertType<Equal<ReturnType<typeof callerOf>, Caller | undefined>>()
assertType<Equal<typeof SVIDKIT_VERIFIER, typeof SVIDKIT_VERIFIER & symbol>>()

// The gRPC transport: Nest's options without credentials, serveSvid's without address.
new SvidGrpcServer({ package: 'orders.v1', protoPath: 'orders.proto' }, { source: verifier as never })
// @ts-expect-error: the SVID listener is the TLS
new SvidGrpcServer({ package: 'orders.v1', credentials: {} }, { source: verifier as never })
void decorate
