// A static trust domain for the tests that need no agent: a test CA, the service's server certificate
// for 127.0.0.1, a client X.509-SVID, JWT-SVIDs minted on demand (registered with the capture, so their
// signatures can never appear in a log), and core verifier options with XFCC trusted from the proxy:
// 127.0.0.2 presenting the proxy's own X.509-SVID (the mTLS channel is on, so an address alone is refused).
import type { CallerVerifierOptions } from '@svidkit/core/caller'
import { matchId } from '@svidkit/core/spiffe-id'
import { TestCA, type TestX509Svid } from '@svidkit/testing'
import { capture } from './capture.js'
import { type ClientCertificate, type ServiceTls, staticServerTls } from './service.js'

export const HOST = '127.0.0.1'
/** The trusted proxy connects from this address; any other peer is untrusted. */
export const TRUSTED_PROXY = '127.0.0.2'
export const SELF = 'spiffe://example.org/orders'
export const WEB = 'spiffe://example.org/web'
export const ADMIN = 'spiffe://example.org/admin'
export const PROXY = 'spiffe://example.org/ns/edge/sa/proxy'

export interface StaticFixtures {
  readonly ca: TestCA
  readonly tls: ServiceTls
  /** PEM authorities for the server's certificate. */
  readonly trust: readonly string[]
  readonly web: TestX509Svid
  readonly webCertificate: ClientCertificate
  /** The trusted proxy's own X.509-SVID (PROXY), presented from TRUSTED_PROXY. */
  readonly proxyCertificate: ClientCertificate
  /** A JWT-SVID for `subject` (default WEB) and this service. */
  token(options?: { subject?: string; ttlSeconds?: number; audience?: string }): Promise<string>
  /** Verifier options: mTLS, JWT-SVID for SELF, XFCC from PROXY at 127.0.0.2 written for SELF; audit to the capture. */
  verifier(overrides?: Partial<CallerVerifierOptions>): CallerVerifierOptions
}

export async function createStaticFixtures(): Promise<StaticFixtures> {
  const ca = await TestCA.create({ trustDomain: 'example.org' })
  const server = await ca.issueWebCertificate({ ipAddresses: [HOST], dnsNames: ['localhost'] })
  const web = await ca.issueX509Svid({ id: WEB })
  const proxy = await ca.issueX509Svid({ id: PROXY })
  return {
    ca,
    tls: staticServerTls(server.privateKeyPem, server.certificatesPem),
    trust: [ca.certificate.toString()],
    web,
    webCertificate: { cert: web.certificatesPem, key: web.privateKeyPem },
    proxyCertificate: { cert: proxy.certificatesPem, key: proxy.privateKeyPem },
    async token(options = {}) {
      const t = await ca.mintJwtSvid({
        subject: options.subject ?? WEB,
        audience: options.audience ?? SELF,
        ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
      })
      capture.secretToken(t)
      return t
    },
    verifier: (overrides = {}) => ({
      bundles: ca.bundleSet(),
      self: SELF,
      jwt: { audience: SELF, clockSkewSeconds: 0 },
      xfcc: {
        trustedPeers: { addresses: [TRUSTED_PROXY], spiffeId: matchId(PROXY), require: 'both' },
        by: SELF,
      },
      audit: { logger: capture.auditLogger(), telemetry: false },
      ...overrides,
    }),
  }
}
