// req.caller (Express's Request, augmented) and the middleware options are typed without casts.
import type { BundleSet } from '@svidkit/core/bundle'
import type { Caller, CallerVerifier, OidcPrincipal } from '@svidkit/core/caller'
import type { ErrorCode } from '@svidkit/core/errors'
import type { SpiffeId } from '@svidkit/core/spiffe-id'
import {
  requireCaller,
  requireScopes,
  type SvidExpressOptions,
  type SvidMiddleware,
  svid,
  svidErrorHandler,
} from '@svidkit/express'
import express, { type ErrorRequestHandler, type Request, type RequestHandler, Router } from 'express'
import { assertType, type Equal } from './assert.js'

declare const bundles: BundleSet

const app = express()
const auth = svid({
  bundles,
  jwt: { audience: 'spiffe://example.org/orders' },
  realm: 'orders',
  errors: 'respond',
  errorBody: (body, req) => {
    assertType<Equal<typeof body.code, ErrorCode>>()
    assertType<Equal<typeof req, Request>>()
    return { problem: body.code }
  },
})
assertType<Equal<typeof auth, SvidMiddleware>>()
const verifier: CallerVerifier = auth.verifier
const maybe = svid({ verifier, optional: true, requirement: { trustDomains: ['example.org'] } })
app.use(auth)

// @ts-expect-error: errors is 'respond' | 'next'
svid({ bundles, errors: 'throw' })
// @ts-expect-error: bundles (or a verifier) is required
svid({ jwt: { audience: 'x' } })
// @ts-expect-error: unknown requirement key
requireCaller({ callerz: ['spiffe://example.org/admin'] })
// @ts-expect-error: scopes are strings
requireScopes(1)

app.get('/orders', requireScopes('orders:read'), (req, res) => {
  const caller = req.caller
  assertType<Equal<typeof caller, Caller | undefined>>()
  // @ts-expect-error: a caller is not a string
  const asString: string = req.caller
  // @ts-expect-error: possibly undefined
  req.caller.channel
  if (caller === undefined) {
    res.json({ caller: null, asString })
    return
  }
  // @ts-expect-error: without narrowing, spiffeId may be undefined (an OIDC caller has none)
  const unnarrowed: SpiffeId = caller.spiffeId
  if (caller.channel === 'oidc') {
    const principal: OidcPrincipal = caller.principal
    // @ts-expect-error: an OIDC caller has no SPIFFE ID
    const id: SpiffeId = caller.spiffeId
    res.json({ principal, id, unnarrowed })
    return
  }
  const id: SpiffeId = caller.spiffeId
  res.json({ id: id.toString(), channel: caller.channel })
})

// Routers and plain handlers see the same Request.
const router = Router()
const handler: RequestHandler = (req, res) => {
  res.json({ who: req.caller?.spiffeId?.toString() ?? req.caller?.principal?.sub ?? null })
}
router.get('/tenant', maybe, requireCaller({ boundary: { tenant: { sameAs: 'self' } } }), handler)
app.use(router)
const onError: ErrorRequestHandler = svidErrorHandler({ realm: 'orders' })
app.use(onError)

export const options: SvidExpressOptions = { bundles, optional: true }
export { verifier }
