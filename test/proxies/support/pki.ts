// The certificates every proxy test uses, written to a temp dir for the proxies to read.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BundleSet } from '@svidkit/core/bundle'
import { TestCA, type TestX509Svid } from '@svidkit/testing'

/** A plain server certificate from TestCA.issueWebCertificate (its type is not exported by name). */
type TestWebCertificate = Awaited<ReturnType<TestCA['issueWebCertificate']>>

export const WEB_ID = 'spiffe://example.org/ns/prod/sa/web'
export const ADMIN_ID = 'spiffe://example.org/ns/prod/sa/admin'
export const STRANGER_ID = 'spiffe://stranger.org/ns/prod/sa/web'
/** The proxy's own SPIFFE ID, written as XFCC `By` in the Envoy-shaped checks. */
export const PROXY_ID = 'spiffe://example.org/ns/edge/sa/proxy'

export interface Pki {
  /** example.org: the application's own trust domain. */
  readonly caA: TestCA
  /** other.org: a federated trust domain the application also has a bundle for. */
  readonly caB: TestCA
  /** stranger.org: a trust domain the proxy trusts but the application has no bundle for. */
  readonly caC: TestCA
  /** Issues the proxy's TLS server certificate (plain Web PKI, for 127.0.0.1). */
  readonly webCa: TestCA
  /** What the Node application trusts: example.org and other.org. */
  readonly bundles: BundleSet
  readonly server: TestWebCertificate
  readonly clients: {
    /** spiffe://example.org/ns/prod/sa/web, issued by example.org. */
    readonly web: TestX509Svid
    /** spiffe://example.org/ns/prod/sa/admin, issued by example.org: the identity forgers aim for. */
    readonly admin: TestX509Svid
    /** Claims spiffe://example.org/ns/prod/sa/admin but is signed by other.org's CA. */
    readonly crossDomain: TestX509Svid
    /** spiffe://stranger.org/ns/prod/sa/web, issued by stranger.org. */
    readonly stranger: TestX509Svid
  }
}

export async function createPki(): Promise<Pki> {
  const [caA, caB, caC, webCa] = await Promise.all([
    TestCA.create({ trustDomain: 'example.org' }),
    TestCA.create({ trustDomain: 'other.org' }),
    TestCA.create({ trustDomain: 'stranger.org' }),
    TestCA.create({ trustDomain: 'proxy-web.test' }),
  ])
  const [web, admin, crossDomain, stranger, server] = await Promise.all([
    caA.issueX509Svid({ id: WEB_ID }),
    caA.issueX509Svid({ id: ADMIN_ID }),
    caB.issueX509Svid({ id: ADMIN_ID }),
    caC.issueX509Svid({ id: STRANGER_ID }),
    webCa.issueWebCertificate({ ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] }),
  ])
  return {
    caA,
    caB,
    caC,
    webCa,
    bundles: new BundleSet([caA.spiffeBundle(), caB.spiffeBundle()]),
    server,
    clients: { web, admin, crossDomain, stranger },
  }
}

/** Files a proxy reads, all in `dir`. */
export interface PkiFiles {
  /** The server certificate chain (PEM). */
  readonly serverCert: string
  /** The server key (PKCS#8 PEM). */
  readonly serverKey: string
  /** Chain and key in one file (HAProxy `crt`). */
  readonly serverPem: string
  /** The client CAs the proxy verifies against: all three trust domains' roots. */
  readonly clientCas: string
}

export function writePkiFiles(pki: Pki, dir: string): PkiFiles {
  const files: PkiFiles = {
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    serverPem: join(dir, 'server.pem'),
    clientCas: join(dir, 'client-cas.pem'),
  }
  writeFileSync(files.serverCert, pki.server.certificatesPem)
  writeFileSync(files.serverKey, pki.server.privateKeyPem, { mode: 0o600 })
  writeFileSync(files.serverPem, pki.server.certificatesPem + pki.server.privateKeyPem, { mode: 0o600 })
  writeFileSync(files.clientCas, [pki.caA, pki.caB, pki.caC].map((ca) => ca.x509Bundle().toPem()).join(''))
  return files
}
