// request.caller, route config.svid, fastify.svid and the plugin options are typed without casts.
import type { BundleSet } from '@svidkit/core/bundle'
import type { Caller, CallerVerifier, OidcPrincipal } from '@svidkit/core/caller'
import type { ErrorCode } from '@svidkit/core/errors'
import type { SpiffeId } from '@svidkit/core/spiffe-id'
import svidkit, { type RouteRequirement, type SvidkitFastifyOptions, svidkitFastify } from '@svidkit/fastify'
import Fastify, { type FastifyRequest, type preHandlerHookHandler } from 'fastify'
import { assertType, type Equal } from './assert.js'

declare const bundles: BundleSet

const app = Fastify()
await app.register(svidkit, {
  bundles,
  jwt: { audience: 'spiffe://example.org/orders' },
  realm: 'orders',
  defaultMode: 'required',
  errorBody: (body, request) => {
    assertType<Equal<typeof body.code, ErrorCode>>()
    assertType<Equal<typeof request, FastifyRequest>>()
    return { problem: body.code }
  },
})
await app.register(svidkitFastify, { verifier: app.svid.verifier, decoratorName: 'workload' })

// @ts-expect-error: defaultMode is 'required' | 'optional' | 'none'
await app.register(svidkit, { bundles, defaultMode: 'sometimes' })
// @ts-expect-error: bundles (or a verifier) is required
await app.register(svidkit, { jwt: { audience: 'x' } })

app.get('/orders', (request) => {
  const caller = request.caller
  assertType<Equal<typeof caller, Caller | undefined>>()

  // @ts-expect-error: a caller is not a string
  const asString: string = request.caller
  // @ts-expect-error: read-only (a getter)
  request.caller = undefined
  // @ts-expect-error: possibly undefined (public routes, optional authentication)
  request.caller.channel

  if (caller === undefined) return { caller: null, asString }
  // @ts-expect-error: without narrowing, spiffeId may be undefined (an OIDC caller has none)
  const unnarrowed: SpiffeId = caller.spiffeId
  if (caller.channel === 'oidc') {
    const principal: OidcPrincipal = caller.principal
    // @ts-expect-error: an OIDC caller has no SPIFFE ID
    const id: SpiffeId = caller.spiffeId
    return { principal, id, unnarrowed }
  }
  assertType<Equal<typeof caller.channel, 'mtls' | 'xfcc' | 'jwt'>>()
  const id: SpiffeId = caller.spiffeId
  const scopes: readonly string[] = caller.scopes
  return { id: id.toString(), scopes, td: caller.trustDomain.name }
})

// Route config.svid is typed (FastifyContextConfig augmentation).
app.get(
  '/admin',
  {
    config: {
      svid: { callers: ['spiffe://example.org/admin'], scopes: { anyOf: ['a', 'b'] }, optional: true },
    },
  },
  () => 'ok',
)
app.get('/healthz', { config: { svid: { public: true } } }, () => 'ok')
app.get(
  '/tenant',
  { config: { svid: { boundary: { tenant: { sameAs: 'self' } }, channels: ['mtls', 'xfcc'] } } },
  () => 'ok',
)
// An unknown key is not a type error here: Fastify infers and intersects the route's own config
// type. The plugin refuses it when the route is registered (ERR_OPTIONS_INVALID).
// @ts-expect-error: public is a boolean
app.get('/typo2', { config: { svid: { public: 'yes' } } }, () => 'ok')
// @ts-expect-error: not a channel
app.get('/typo3', { config: { svid: { channels: ['carrier-pigeon'] } } }, () => 'ok')

// fastify.svid
const canWrite = app.svid.require({ scopes: ['orders:write'] })
assertType<Equal<typeof canWrite, preHandlerHookHandler>>()
app.post('/orders', { preHandler: canWrite }, () => 'ok')
const verifier: CallerVerifier = app.svid.verifier
// One RouteRequirement type everywhere: `public`/`optional` type-check here and are refused when
// the hook is created (they belong in config.svid).

export const options: SvidkitFastifyOptions = { bundles, defaultMode: 'none' }
export const route: RouteRequirement = {
  trustDomains: ['example.org'],
  when: [{ claim: 'azp', equals: 'portal' }],
}
export { verifier }
