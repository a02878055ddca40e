// THE caller-scenario table: one list, run as it is against every adapter (see run-scenarios.ts).
// Each scenario is data: which server profile, what the client sends (certificate, source address,
// headers), and what must come back (status, error `code`, `WWW-Authenticate`, and on success the
// caller the handler saw).
import { createHash } from 'node:crypto'
import type { ErrorCode } from '@svidkit/core/errors'
import { formatXfcc, type XfccElement } from '@svidkit/core/xfcc'
import type { TestX509Svid } from '@svidkit/testing'
import type { CallerView } from './adapter.js'
import type { ClientRequest } from './client.js'
import {
  ADMIN,
  EDGE,
  type Fixtures,
  GLOBEX,
  PARTNER,
  type Profile,
  SELF,
  TRUSTED_PROXY_ADDRESS,
  WEB,
} from './fixtures.js'

export interface Expectation {
  readonly status: number
  /** The `code` of the JSON error body; absent for a success. */
  readonly code?: ErrorCode
  /** `WWW-Authenticate`: exact text, a pattern, or `null` when it must be absent. Unchecked when undefined. */
  readonly wwwAuthenticate?: string | RegExp | null
  /** On success: the caller the handler saw (`null`: no caller). */
  readonly caller?: CallerView | null
  /** A fragment the error message must contain (e.g. the deciding rule). */
  readonly messageIncludes?: string
}

export interface Scenario {
  readonly name: string
  readonly profile?: Profile
  readonly request: (fx: Fixtures) => ClientRequest | Promise<ClientRequest>
  /** A function when the expectation depends on the fixtures (e.g. the OIDC issuer's port). */
  readonly expect: Expectation | ((fx: Fixtures) => Expectation)
}

const CHALLENGE = 'Bearer realm="svidkit"'
const invalidToken = /^Bearer realm="svidkit", error="invalid_token", error_description="[^"]+"$/
const invalidRequest = /^Bearer realm="svidkit", error="invalid_request", error_description="[^"]+"$/
const insufficientScope =
  /^Bearer realm="svidkit", error="insufficient_scope", error_description="[^"]+", scope="orders:write"$/

const ok = (id: string, channel: CallerView['channel']): Expectation => ({
  status: 200,
  caller: { id, channel },
})
const unauthorized = (code: ErrorCode): Expectation => ({ status: 401, code, wwwAuthenticate: invalidToken })
const forbidden = (code: ErrorCode = 'ERR_ACCESS_DENIED', messageIncludes?: string): Expectation => ({
  status: 403,
  code,
  wwwAuthenticate: null,
  ...(messageIncludes ? { messageIncludes } : {}),
})

/** An XFCC header value, as Envoy writes it. */
const xfcc = (...elements: XfccElement[]): string => formatXfcc(elements)
/** The element a sidecar in front of this service writes for `uri`. */
const element = (uri: string, extra: XfccElement = {}): XfccElement => ({ by: [SELF], uri: [uri], ...extra })
/** `Cert` and `Hash` of a client certificate, as Envoy forwards them. */
const certOf = (svid: TestX509Svid): XfccElement => {
  const leaf = svid.certificates[0]!
  return {
    hash: [createHash('sha256').update(leaf.raw).digest('hex')],
    cert: [encodeURIComponent(leaf.toString())],
  }
}
/** A request from the trusted proxy: its own SVID (mTLS), from its address, carrying `header`. */
const fromProxy = (fx: Fixtures, header: string | string[], path = '/whoami'): ClientRequest => ({
  path,
  from: TRUSTED_PROXY_ADDRESS,
  certificate: fx.svids.ingress,
  headers: { 'x-forwarded-client-cert': header },
})
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export const callerScenarios: readonly Scenario[] = [
  // ── no credentials ────────────────────────────────────────────────────────────────────────────
  {
    name: 'no credentials: 401 with a bare challenge',
    request: () => ({ path: '/whoami' }),
    expect: { status: 401, code: 'ERR_CREDENTIALS_MISSING', wwwAuthenticate: CHALLENGE },
  },

  // ── mTLS ──────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'mTLS: a valid peer',
    request: (fx) => ({ path: '/whoami', certificate: fx.svids.web }),
    expect: ok(WEB, 'mtls'),
  },
  {
    name: 'mTLS: a peer of a federated trust domain (partner.org)',
    request: (fx) => ({ path: '/whoami', certificate: fx.svids.partner }),
    expect: ok(PARTNER, 'mtls'),
  },
  {
    name: 'mTLS: wrong trust domain, no bundle for it (rogue.org)',
    request: (fx) => ({ path: '/whoami', certificate: fx.svids.rogue }),
    expect: unauthorized('ERR_X509_SVID_NO_BUNDLE'),
  },
  {
    name: "mTLS: wrong trust domain, an example.org ID signed by partner.org's CA",
    request: (fx) => ({ path: '/whoami', certificate: fx.svids.crossSigned }),
    expect: unauthorized('ERR_X509_SVID_UNTRUSTED'),
  },
  {
    name: 'mTLS: an expired SVID',
    request: (fx) => ({ path: '/whoami', certificate: fx.svids.expired }),
    expect: unauthorized('ERR_X509_SVID_EXPIRED'),
  },

  // ── XFCC ──────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'XFCC: from the trusted proxy (its SVID over mTLS)',
    request: (fx) => fromProxy(fx, xfcc(element(WEB))),
    expect: ok(WEB, 'xfcc'),
  },
  {
    name: "XFCC: from the trusted proxy, with the client's Cert verified",
    request: (fx) => fromProxy(fx, xfcc(element(WEB, certOf(fx.svids.web)))),
    expect: ok(WEB, 'xfcc'),
  },
  {
    name: "XFCC: from a trusted proxy, the client's forwarded Cert has expired",
    request: (fx) => fromProxy(fx, xfcc(element(WEB, certOf(fx.svids.expired)))),
    expect: unauthorized('ERR_X509_SVID_EXPIRED'),
  },
  {
    name: 'XFCC: from a proxy trusted by its SPIFFE ID (mTLS), any address',
    request: (fx) => ({
      path: '/whoami',
      certificate: fx.svids.ingress,
      headers: { 'x-forwarded-client-cert': xfcc(element(WEB)) },
    }),
    expect: ok(WEB, 'xfcc'),
  },
  {
    name: "XFCC: from the trusted proxy's address but without its SVID (mTLS channel on: the ID is required)",
    request: () => ({
      path: '/whoami',
      from: TRUSTED_PROXY_ADDRESS,
      headers: { 'x-forwarded-client-cert': xfcc(element(ADMIN)) },
    }),
    expect: unauthorized('ERR_XFCC_UNTRUSTED_PEER'),
  },
  {
    name: "XFCC: a workload with its own SVID at the trusted proxy's address, naming another workload",
    request: (fx) => ({
      path: '/whoami',
      from: TRUSTED_PROXY_ADDRESS,
      certificate: fx.svids.web,
      headers: { 'x-forwarded-client-cert': xfcc(element(ADMIN)) },
    }),
    expect: unauthorized('ERR_XFCC_UNTRUSTED_PEER'),
  },
  {
    name: 'XFCC: from an untrusted peer (127.0.0.1, no certificate) with a valid-looking URI',
    request: () => ({ path: '/whoami', headers: { 'x-forwarded-client-cert': xfcc(element(ADMIN)) } }),
    expect: unauthorized('ERR_XFCC_UNTRUSTED_PEER'),
  },
  {
    name: 'XFCC: from an untrusted peer with its own valid SVID, claiming another identity',
    request: (fx) => ({
      path: '/whoami',
      certificate: fx.svids.web,
      headers: { 'x-forwarded-client-cert': xfcc(element(ADMIN)) },
    }),
    expect: unauthorized('ERR_XFCC_UNTRUSTED_PEER'),
  },
  {
    name: 'XFCC forged: a client-prepended element is ignored (the last one, the proxy, names the caller)',
    request: (fx) => fromProxy(fx, [xfcc(element(ADMIN)), xfcc(element(WEB))]),
    expect: ok(WEB, 'xfcc'),
  },
  {
    name: 'XFCC forged: a Subject carrying ";URI=…" next to the real URI',
    request: (fx) => fromProxy(fx, xfcc(element(WEB, { subject: [`CN=web;URI=${ADMIN}`] }))),
    expect: ok(WEB, 'xfcc'),
  },
  {
    name: 'XFCC forged: a Subject carrying ";URI=…" and no URI',
    request: (fx) => fromProxy(fx, xfcc({ by: [SELF], subject: [`CN=web;URI=${ADMIN}`] })),
    expect: unauthorized('ERR_XFCC_NO_URI'),
  },
  {
    name: 'XFCC: written by a proxy for another service (By mismatch)',
    request: (fx) => fromProxy(fx, xfcc({ by: ['spiffe://example.org/tenant/acme/billing'], uri: [WEB] })),
    expect: unauthorized('ERR_XFCC_BY_MISMATCH'),
  },
  {
    name: 'XFCC, two trusted hops: edge proxy then sidecar',
    profile: 'two-hops',
    request: (fx) => fromProxy(fx, xfcc({ by: [EDGE], uri: [WEB] }, element(EDGE))),
    expect: ok(WEB, 'xfcc'),
  },
  {
    name: 'XFCC forged under trustedHops 2: a workload reached the sidecar and prepended an element',
    profile: 'two-hops',
    request: (fx) => fromProxy(fx, xfcc({ by: [EDGE], uri: [ADMIN] }, element(WEB))),
    expect: unauthorized('ERR_XFCC_HOPS'),
  },
  {
    name: 'XFCC under trustedHops 2: too few elements',
    profile: 'two-hops',
    request: (fx) => fromProxy(fx, xfcc(element(WEB))),
    expect: unauthorized('ERR_XFCC_HOPS'),
  },

  // ── JWT-SVID ──────────────────────────────────────────────────────────────────────────────────
  {
    name: 'JWT-SVID: valid',
    request: async (fx) => ({ path: '/whoami', headers: bearer(await fx.jwt(WEB)) }),
    expect: ok(WEB, 'jwt'),
  },
  {
    name: 'JWT-SVID: the wrong audience',
    request: async (fx) => ({
      path: '/whoami',
      headers: bearer(await fx.jwt(WEB, { audience: 'spiffe://example.org/billing' })),
    }),
    expect: unauthorized('ERR_JWT_SVID_AUDIENCE_MISMATCH'),
  },
  {
    name: 'JWT-SVID: expired',
    request: async (fx) => ({ path: '/whoami', headers: bearer(await fx.jwt(WEB, { ttlSeconds: -600 })) }),
    expect: unauthorized('ERR_JWT_SVID_EXPIRED'),
  },
  {
    name: 'JWT-SVID: signed by a trust domain we have no bundle for',
    request: async (fx) => ({
      path: '/whoami',
      headers: bearer(await fx.rogueCa.mintJwtSvid({ subject: '/web', audience: SELF })),
    }),
    expect: unauthorized('ERR_JWT_SVID_NO_BUNDLE'),
  },
  {
    name: 'a malformed Authorization header: 400 invalid_request',
    request: () => ({ path: '/whoami', headers: { authorization: 'Bearer not a token' } }),
    expect: { status: 400, code: 'ERR_CREDENTIALS_MALFORMED', wwwAuthenticate: invalidRequest },
  },

  // ── mixed channels ────────────────────────────────────────────────────────────────────────────
  {
    name: 'mTLS + JWT-SVID naming different workloads',
    request: async (fx) => ({
      path: '/whoami',
      certificate: fx.svids.globex,
      headers: bearer(await fx.jwt(WEB)),
    }),
    expect: unauthorized('ERR_CREDENTIALS_CALLER_MISMATCH'),
  },
  {
    name: "mTLS + the same workload's JWT-SVID: the mTLS caller gets the token's scopes",
    request: async (fx) => ({
      path: '/scoped',
      certificate: fx.svids.web,
      headers: bearer(await fx.jwt(WEB, { claims: { scope: 'orders:read orders:write' } })),
    }),
    expect: ok(WEB, 'mtls'),
  },
  {
    name: 'XFCC from a trusted proxy + a JWT-SVID naming another workload',
    request: async (fx) => ({
      ...fromProxy(fx, xfcc(element(WEB))),
      headers: { 'x-forwarded-client-cert': xfcc(element(WEB)), ...bearer(await fx.jwt(ADMIN)) },
    }),
    expect: unauthorized('ERR_CREDENTIALS_CALLER_MISMATCH'),
  },
  {
    name: 'OIDC token next to an mTLS identity (oidc.asUser off)',
    request: async (fx) => ({
      path: '/whoami',
      certificate: fx.svids.web,
      headers: bearer(await fx.oidc.mint({ sub: 'user-42' })),
    }),
    expect: unauthorized('ERR_CREDENTIALS_CALLER_MISMATCH'),
  },

  // ── OIDC ──────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'OIDC: a token from a configured issuer (asynchronous key fetch)',
    request: async (fx) => ({ path: '/whoami', headers: bearer(await fx.oidc.mint({ sub: 'user-42' })) }),
    expect: (fx) => ok(`${fx.oidc.issuer}#user-42`, 'oidc'),
  },
  {
    name: 'OIDC: the wrong audience',
    request: async (fx) => ({
      path: '/whoami',
      headers: bearer(await fx.oidc.mint({ sub: 'user-42', audience: 'billing' })),
    }),
    expect: unauthorized('ERR_OIDC_AUDIENCE_MISMATCH'),
  },

  // ── scopes ────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'a missing scope: 403 insufficient_scope',
    request: async (fx) => ({
      path: '/scoped',
      headers: bearer(await fx.jwt(WEB, { claims: { scope: 'orders:read' } })),
    }),
    expect: { status: 403, code: 'ERR_SCOPE_MISSING', wwwAuthenticate: insufficientScope },
  },
  {
    name: 'a certificate caller has no scopes: 403 insufficient_scope',
    request: (fx) => ({ path: '/scoped', certificate: fx.svids.web }),
    expect: { status: 403, code: 'ERR_SCOPE_MISSING', wwwAuthenticate: insufficientScope },
  },
  {
    name: 'the required scope (from scp)',
    request: async (fx) => ({
      path: '/scoped',
      headers: bearer(await fx.jwt(WEB, { claims: { scp: ['orders:write'] } })),
    }),
    expect: ok(WEB, 'jwt'),
  },

  // ── boundaries ────────────────────────────────────────────────────────────────────────────────
  {
    name: 'boundary sameAs self: a cross-tenant mTLS call is denied',
    request: (fx) => ({ path: '/tenant', certificate: fx.svids.globex }),
    expect: forbidden('ERR_ACCESS_DENIED'),
  },
  {
    name: 'boundary sameAs self: a cross-tenant call through a trusted proxy is denied',
    request: (fx) => fromProxy(fx, xfcc(element(GLOBEX)), '/tenant'),
    expect: forbidden('ERR_ACCESS_DENIED'),
  },
  {
    name: 'boundary sameAs self: the same tenant is allowed',
    request: (fx) => ({ path: '/tenant', certificate: fx.svids.web }),
    expect: ok(WEB, 'mtls'),
  },

  // ── public and optional routes ────────────────────────────────────────────────────────────────
  {
    name: 'a public route without credentials',
    request: () => ({ path: '/public' }),
    expect: { status: 200, caller: null },
  },
  {
    name: 'a public route ignores credentials, even bad ones',
    request: (fx) => ({
      path: '/public',
      certificate: fx.svids.rogue,
      headers: { authorization: 'Bearer x.y.z' },
    }),
    expect: { status: 200, caller: null },
  },
  {
    name: 'an optional route without credentials',
    request: () => ({ path: '/optional' }),
    expect: { status: 200, caller: null },
  },
  {
    name: 'an optional route with a valid caller',
    request: (fx) => ({ path: '/optional', certificate: fx.svids.web }),
    expect: ok(WEB, 'mtls'),
  },
  {
    name: 'an optional route with invalid credentials',
    request: (fx) => ({ path: '/optional', certificate: fx.svids.expired }),
    expect: unauthorized('ERR_X509_SVID_EXPIRED'),
  },

  // ── global policy ─────────────────────────────────────────────────────────────────────────────
  {
    name: 'policy: a DENY rule beats a matching ALLOW rule',
    request: (fx) => ({ path: '/policy', certificate: fx.svids.legacy }),
    expect: forbidden('ERR_ACCESS_DENIED', 'deny-legacy'),
  },
  {
    name: 'policy: the ALLOW rule',
    request: (fx) => ({ path: '/policy', certificate: fx.svids.web }),
    expect: ok(WEB, 'mtls'),
  },
  {
    name: 'policy: no ALLOW rule matches an operation ALLOW rules target',
    request: (fx) => ({ path: '/policy', certificate: fx.svids.partner }),
    expect: forbidden('ERR_ACCESS_DENIED'),
  },
  {
    name: 'policy: applies to every channel (a JWT-SVID DENY)',
    request: async (fx) => ({ path: '/policy', headers: bearer(await fx.jwt('/tenant/acme/legacy')) }),
    expect: forbidden('ERR_ACCESS_DENIED', 'deny-legacy'),
  },
]
