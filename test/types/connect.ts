// @svidkit/connect fits connect's own types: the interceptor is an `Interceptor`, `svidkitContextValues`
// is a `contextValues` function of `connectNodeAdapter`, `callerKey` is a typed `ContextKey`, and
// `callerOf` takes a handler context or context values and returns a `Caller`.
import type {
  ConnectRouter,
  ContextKey,
  ContextValues,
  HandlerContext,
  Interceptor,
} from '@connectrpc/connect'
import { connectNodeAdapter } from '@connectrpc/connect-node'
import {
  callerKey,
  callerOf,
  createSvidkitInterceptor,
  type SvidkitInterceptor,
  type SvidkitInterceptorOptions,
  type svidkitCodeOf,
  svidkitContextValues,
  toConnectError,
} from '@svidkit/connect'
import type { BundleSet } from '@svidkit/core/bundle'
import type { Caller, CallerVerifier } from '@svidkit/core/caller'
import type { ErrorCode } from '@svidkit/core/errors'
import { assertType, type Equal } from './assert.js'

declare const bundles: BundleSet
declare const routes: (router: ConnectRouter) => void
declare const ctx: HandlerContext

const svidkit = createSvidkitInterceptor({
  bundles,
  jwt: { audience: 'spiffe://example.org/orders' },
  methods: {
    '/orders.v1.Orders/*': { scopes: ['orders:read'] },
    '/grpc.health.v1.Health/*': { public: true },
  },
  defaultMode: 'optional',
})
assertType<Equal<typeof svidkit, SvidkitInterceptor>>()
const asInterceptor: Interceptor = svidkit
const verifier: CallerVerifier = svidkit.verifier
createSvidkitInterceptor({ verifier, methods: {} })

connectNodeAdapter({ routes, interceptors: [asInterceptor], contextValues: svidkitContextValues })
connectNodeAdapter({ routes, interceptors: [svidkit], contextValues: (req) => svidkitContextValues(req) })

assertType<Equal<typeof callerKey, ContextKey<Caller | undefined>>>()
assertType<Equal<ReturnType<typeof callerOf>, Caller>>()
const fromContext: Caller = callerOf(ctx)
const fromValues: Caller = callerOf(ctx.values)
const optional: Caller | undefined = ctx.values.get(callerKey)
const values: ContextValues = svidkitContextValues({ headers: {} })
assertType<Equal<ReturnType<typeof svidkitCodeOf>, ErrorCode | undefined>>()
const thrown: Error = toConnectError(new Error('x'))

// @ts-expect-error: defaultMode is 'required' | 'optional' | 'none'
createSvidkitInterceptor({ bundles, defaultMode: 'sometimes' })
// @ts-expect-error: bundles (or a verifier) is required
createSvidkitInterceptor({ jwt: { audience: 'x' } })
// @ts-expect-error: unknown requirement key
const bad: SvidkitInterceptorOptions = { bundles, methods: { '/a.B/C': { role: 'admin' } } }
// @ts-expect-error: callerOf returns a Caller, never undefined
const never: undefined = callerOf(ctx)

export { bad, fromContext, fromValues, never, optional, thrown, values }
