// The shared inputs of every HTTP benchmark server: one test CA, the server's and the client's
// X.509-SVIDs, one ES256 JWT-SVID and one Envoy XFCC header. run.mjs generates them once per run
// (the keys are random) and every server process reads them, so all configurations verify the very
// same key, token and header.
import { createHash, createPublicKey } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export const TRUST_DOMAIN = 'example.org'
export const SERVER_ID = 'spiffe://example.org/ns/default/sa/server'
export const CLIENT_ID = 'spiffe://example.org/ns/default/sa/client'
export const PATH = '/hello'
export const BODY = 'hello'

/** Generates the fixture and writes it as JSON to `file`. */
export async function createFixture(file) {
  const { TestCA, bundleMapJson } = await import('@svidkit/testing')
  const day = 86_400
  const ca = await TestCA.create({ trustDomain: TRUST_DOMAIN, ttlSeconds: 7 * day })
  const server = await ca.issueX509Svid({ id: SERVER_ID, ttlSeconds: 7 * day, dnsNames: ['localhost'] })
  const client = await ca.issueX509Svid({ id: CLIENT_ID, ttlSeconds: 7 * day })
  // As in perf-anchors.md: ES256, aud = the server's SPIFFE ID, exp = +30 days.
  const token = await ca.mintJwtSvid({ subject: CLIENT_ID, audience: [SERVER_ID], ttlSeconds: 30 * day })
  // A one-hop Envoy XFCC (By/Hash/Subject/URI, no Cert), the shape perf-anchors.md measured (185 B).
  const hash = createHash('sha256').update(client.certificatesDer[0]).digest('hex')
  const xfcc = `By=${SERVER_ID};Hash=${hash};Subject="CN=client,O=Ex";URI=${CLIENT_ID}`
  const fixture = {
    created: new Date().toISOString(),
    caPem: ca.certificate.toString(),
    bundleMap: bundleMapJson([ca]),
    server: { cert: server.certificatesPem, key: server.privateKeyPem },
    client: { cert: client.certificatesPem, key: client.privateKeyPem },
    // The JWT key's public half as SPKI PEM: what @fastify/jwt, express-jwt and the floor load.
    jwtPublicKeyPem: createPublicKey(ca.jwtPrivateKey).export({ format: 'pem', type: 'spki' }).toString(),
    token,
    xfcc,
    self: SERVER_ID,
    audience: SERVER_ID,
    caller: CLIENT_ID,
  }
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify(fixture, null, 2))
  return fixture
}

/** Reads the fixture written by {@link createFixture}. */
export function readFixture(file) {
  return JSON.parse(readFileSync(file, 'utf8'))
}

/** The two headers every request of every configuration carries. */
export function requestHeaders(fixture) {
  return { authorization: `Bearer ${fixture.token}`, 'x-forwarded-client-cert': fixture.xfcc }
}
