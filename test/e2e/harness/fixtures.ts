// Everything the scenarios need, made fresh per test file: three test CAs (example.org and
// partner.org are trusted, rogue.org is not), client X.509-SVIDs (valid, federated, forged, expired,
// proxies), a server certificate for 127.0.0.1, a small OIDC issuer (a JWKS over HTTPS on
// 127.0.0.1), and the server configurations ("profiles") the scenarios run against.
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { BundleSet } from '@svidkit/core/bundle'
import type { CallerVerifierOptions } from '@svidkit/core/caller'
import { createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import { matchId } from '@svidkit/core/spiffe-id'
import { TestCA, type TestX509Svid } from '@svidkit/testing'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { E2eRoute, E2eServerConfig } from './adapter.js'

export const HOST = '127.0.0.1'
/** The address the trusted proxy connects from (with its SVID, `INGRESS`). */
export const TRUSTED_PROXY_ADDRESS = '127.0.0.2'

/** The service under test. */
export const SELF = 'spiffe://example.org/tenant/acme/orders'
export const WEB = 'spiffe://example.org/tenant/acme/web'
export const ADMIN = 'spiffe://example.org/tenant/acme/admin'
export const LEGACY = 'spiffe://example.org/tenant/acme/legacy'
export const GLOBEX = 'spiffe://example.org/tenant/globex/web'
export const PARTNER = 'spiffe://partner.org/billing'
export const ROGUE = 'spiffe://rogue.org/web'
/** A sidecar/ingress proxy trusted by its own SPIFFE ID (mTLS) to send XFCC. */
export const INGRESS = 'spiffe://example.org/ingress'
/** The forwarding edge proxy of the two-hop profile. */
export const EDGE = 'spiffe://example.org/edge'
export const OIDC_AUDIENCE = 'orders-api'

/** The routes every adapter serves. */
export const ROUTES: readonly E2eRoute[] = [
  { path: '/whoami', access: { kind: 'required' } },
  { path: '/public', access: { kind: 'public' } },
  { path: '/optional', access: { kind: 'optional' } },
  { path: '/scoped', access: { kind: 'required', requirement: { scopes: ['orders:write'] } } },
  {
    path: '/tenant',
    access: { kind: 'required', requirement: { boundary: { tenant: { sameAs: 'self' } } } },
  },
  { path: '/policy', access: { kind: 'required' } },
]

/** The global policy: on /policy, callers of tenant acme are allowed, except legacy (DENY beats ALLOW). */
export const POLICY = definePolicy({
  defaultAction: 'allow',
  rules: [
    { id: 'deny-legacy', action: 'DENY', from: [{ principals: [LEGACY] }], to: [{ paths: ['/policy'] }] },
    {
      id: 'allow-acme',
      action: 'ALLOW',
      from: [{ principals: ['spiffe://example.org/tenant/acme/*'] }],
      to: [{ paths: ['/policy'] }],
    },
  ],
})

/** Server configurations; a scenario names the one it runs against (default `default`). */
export type Profile = 'default' | 'two-hops'

export interface Fixtures {
  readonly ca: TestCA
  readonly partnerCa: TestCA
  readonly rogueCa: TestCA
  /** PEM trust anchors the client uses for the server certificate. */
  readonly serverTrust: readonly string[]
  readonly svids: {
    readonly web: TestX509Svid
    readonly admin: TestX509Svid
    readonly legacy: TestX509Svid
    readonly globex: TestX509Svid
    readonly partner: TestX509Svid
    readonly rogue: TestX509Svid
    /** An example.org ID signed by partner.org's CA. */
    readonly crossSigned: TestX509Svid
    /** Expired an hour ago. */
    readonly expired: TestX509Svid
    readonly ingress: TestX509Svid
  }
  readonly oidc: {
    readonly issuer: string
    mint(options: { sub: string; audience?: string; claims?: Record<string, unknown> }): Promise<string>
  }
  readonly profiles: Readonly<Record<Profile, E2eServerConfig>>
  /** A JWT-SVID for `subject` (an ID or a path in example.org), by default for this service. */
  jwt(
    subject: string,
    options?: { audience?: string; claims?: Record<string, unknown>; ttlSeconds?: number },
  ): Promise<string>
  close(): Promise<void>
}

async function startOidcIssuer(tls: { key: string; cert: string }) {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const kid = 'e2e-oidc-1'
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] })
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks)
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
  const issuer = `https://${HOST}:${(server.address() as AddressInfo).port}`
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    mint: ({
      sub,
      audience = OIDC_AUDIENCE,
      claims = {},
    }: {
      sub: string
      audience?: string
      claims?: Record<string, unknown>
    }) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export async function createFixtures(): Promise<Fixtures> {
  const ca = await TestCA.create({ trustDomain: 'example.org' })
  const partnerCa = await TestCA.create({ trustDomain: 'partner.org' })
  const rogueCa = await TestCA.create({ trustDomain: 'rogue.org' })
  const serverCert = await ca.issueWebCertificate({ ipAddresses: [HOST], dnsNames: ['localhost'] })
  const serverSvid = await ca.issueX509Svid({ id: SELF, dnsNames: ['localhost'] })
  const tls = { key: serverCert.privateKeyPem, cert: serverCert.certificatesPem }
  const caPem = ca.certificate.toString()
  const hourAgo = Date.now() - 3_600_000
  const svids = {
    web: await ca.issueX509Svid({ id: WEB }),
    admin: await ca.issueX509Svid({ id: ADMIN }),
    legacy: await ca.issueX509Svid({ id: LEGACY }),
    globex: await ca.issueX509Svid({ id: GLOBEX }),
    partner: await partnerCa.issueX509Svid({ id: PARTNER }),
    rogue: await rogueCa.issueX509Svid({ id: ROGUE }),
    crossSigned: await partnerCa.issueX509Svid({ id: WEB }),
    expired: await ca.issueX509Svid({
      id: WEB,
      notBefore: new Date(hourAgo - 3_600_000),
      notAfter: new Date(hourAgo),
    }),
    ingress: await ca.issueX509Svid({ id: INGRESS }),
  }
  const oidc = await startOidcIssuer(tls)
  const base: CallerVerifierOptions = {
    bundles: new BundleSet([ca.spiffeBundle(), partnerCa.spiffeBundle()]),
    self: SELF,
    identityTemplates: ['/tenant/{tenant}/{service}'],
    xfcc: { trustedPeers: { addresses: [TRUSTED_PROXY_ADDRESS], spiffeId: matchId(INGRESS) }, by: SELF },
    jwt: { audience: SELF },
    oidc: {
      issuers: [
        {
          issuer: oidc.issuer,
          jwksUri: oidc.jwksUri,
          audience: OIDC_AUDIENCE,
          ca: caPem,
          algorithms: ['ES256'],
        },
      ],
    },
    authorizer: createPolicyAuthorizer(POLICY),
    audit: false,
  }
  const profile = (verifier: CallerVerifierOptions): E2eServerConfig => ({
    host: HOST,
    tls,
    svid: serverSvid,
    verifier,
    routes: ROUTES,
  })
  return {
    ca,
    partnerCa,
    rogueCa,
    serverTrust: [caPem],
    svids,
    oidc,
    profiles: {
      default: profile(base),
      // Two proxies: the edge proxy, then the sidecar in front of the app; the caller is the element
      // two from the end, and the last element must name the edge proxy as its client.
      'two-hops': profile({
        ...base,
        xfcc: {
          trustedPeers: { spiffeId: matchId(INGRESS) },
          trustedHops: 2,
          trustedProxies: matchId(EDGE),
          by: SELF,
        },
      }),
    },
    jwt: (subject, options = {}) =>
      ca.mintJwtSvid({
        subject,
        audience: options.audience ?? SELF,
        ...(options.claims ? { claims: options.claims } : {}),
        ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
      }),
    close: oidc.close,
  }
}
