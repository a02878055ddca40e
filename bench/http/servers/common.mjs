// What the Fastify and Express benchmark servers share: the fixture, the svidkit options of each
// configuration, the policy, the anchors' key and the floor.
import { createPublicKey, verify } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { parseBundleMap } from '@svidkit/core/bundle'
import { createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import { StaticSource } from '@svidkit/core/source'
import { matchMemberOf } from '@svidkit/core/spiffe-id'
import { createMtlsServerConfig } from '@svidkit/core/tls'
import { parseX509Svid } from '@svidkit/core/x509-svid'
import { BODY, PATH, readFixture } from '../fixture.mjs'

export { BODY, PATH }

export const DEFAULT_FIXTURE = fileURLToPath(new URL('../../results/tmp/fixture.json', import.meta.url))

/** Every configuration; a server refuses any other name. `tls` ones speak HTTPS. */
export const CONFIGS = {
  fastify: [
    'bare',
    'hook-noop',
    'svidkit-xfcc-policy',
    'svidkit-xfcc-policy-audit',
    'svidkit-jwt-nocache',
    'svidkit-jwt-cache',
    'fastify-jwt',
    'fastify-jwt-cache',
    'floor',
    'floor-jws',
    'naive-xfcc',
    'tls-bare',
    'naive-mtls',
    'svidkit-mtls',
  ],
  express: [
    'bare',
    'hook-noop',
    'svidkit-xfcc-policy',
    'svidkit-xfcc-policy-audit',
    'svidkit-jwt-nocache',
    'svidkit-jwt-cache',
    'express-jwt',
    'express-oauth2-jwt-bearer',
    'floor',
    'floor-jws',
    'naive-xfcc',
    'tls-bare',
    'naive-mtls',
    'svidkit-mtls',
  ],
  // @svidkit/nestjs's global guard against a trivial guard that returns true (and no guard at all).
  'nest-express': [
    'bare',
    'trivial-guard',
    'svidkit-xfcc-policy',
    'svidkit-jwt-nocache',
    'svidkit-jwt-cache',
  ],
  'nest-fastify': [
    'bare',
    'trivial-guard',
    'svidkit-xfcc-policy',
    'svidkit-jwt-nocache',
    'svidkit-jwt-cache',
  ],
}

export const isTls = (config) => config === 'tls-bare' || config === 'naive-mtls' || config === 'svidkit-mtls'

/** `node servers/<framework>.mjs <config> <port>`: parsed and checked. */
export function parseArgs(framework) {
  const [config, portText] = process.argv.slice(2)
  if (!CONFIGS[framework].includes(config)) {
    console.error(`usage: node ${framework}.mjs <${CONFIGS[framework].join('|')}> <port>`)
    process.exit(2)
  }
  const port = Number(portText ?? 0)
  const fixture = readFixture(process.env.SVIDKIT_BENCH_FIXTURE ?? DEFAULT_FIXTURE)
  return { config, port, fixture }
}

/**
 * A realistic small policy: 8 rules (3 DENY, one of them a namespace boundary, 1 AUDIT, 4 ALLOW),
 * with the rule that allows the benchmark's request last, so every rule is evaluated.
 */
export function benchPolicy() {
  return definePolicy({
    identity: { template: '/ns/{namespace}/sa/{serviceAccount}' },
    rules: [
      { id: 'same-namespace', action: 'DENY', boundary: { namespace: { notSameAs: 'self' } } },
      {
        id: 'no-legacy',
        action: 'DENY',
        from: [{ principals: ['spiffe://example.org/ns/legacy/*'] }],
      },
      { id: 'home-trust-domain', action: 'DENY', from: [{ notTrustDomains: ['example.org'] }] },
      { id: 'audit-admin', action: 'AUDIT', to: [{ paths: ['/admin/{**}'] }] },
      { id: 'health', to: [{ methods: ['GET'], paths: ['/healthz'] }] },
      {
        id: 'orders-read',
        from: [{ principals: ['spiffe://example.org/ns/{*}/sa/web'] }],
        to: [{ methods: ['GET'], paths: ['/orders', '/orders/{*}'] }],
      },
      {
        id: 'orders-write',
        from: [{ principals: ['spiffe://example.org/ns/default/sa/web'] }],
        to: [{ methods: ['POST', 'PUT'], paths: ['/orders/{**}'] }],
      },
      {
        id: 'hello',
        from: [{ trustDomains: ['example.org'], channels: ['xfcc', 'mtls', 'jwt'] }],
        to: [{ methods: ['GET'], paths: ['/hello'] }],
      },
    ],
  })
}

/** An audit sink that reads every event and keeps the last (a stand-in for a queue or a log line). */
export const lastEventSink = {
  last: undefined,
  write(event) {
    this.last = event
  },
}

/** The options of core's `createCallerVerifier` (through the adapter) for a svidkit configuration. */
export function svidkitOptions(config, fixture) {
  const bundles = parseBundleMap(fixture.bundleMap)
  const base = { bundles, self: fixture.self }
  switch (config) {
    case 'svidkit-xfcc-policy':
      return {
        ...base,
        mtls: false, // plain HTTP behind a local proxy: trusted by address
        xfcc: { trustedPeers: { addresses: ['127.0.0.1', '::1'] }, by: fixture.self },
        identityTemplates: ['/ns/{namespace}/sa/{serviceAccount}'],
        authorizer: createPolicyAuthorizer(benchPolicy()),
      }
    case 'svidkit-xfcc-policy-audit':
      // The same, with every audit event built and handed to a sink that keeps the last one.
      return { ...svidkitOptions('svidkit-xfcc-policy', fixture), audit: { sink: lastEventSink } }
    case 'svidkit-jwt-nocache':
      return { ...base, jwt: { audience: fixture.audience, cache: false } }
    case 'svidkit-jwt-cache':
      return { ...base, jwt: { audience: fixture.audience } }
    case 'svidkit-mtls':
      return base // the mTLS channel is on by default; the peer was verified at the handshake
    default:
      return undefined
  }
}

/** The mTLS server config (core's `createMtlsServerConfig`) for `svidkit-mtls`. */
export function mtlsServerConfig(fixture) {
  const source = new StaticSource({
    svid: parseX509Svid(fixture.server.cert, fixture.server.key),
    bundles: parseBundleMap(fixture.bundleMap),
  })
  return createMtlsServerConfig({ source, authorize: matchMemberOf('example.org') })
}

/**
 * The hand-written XFCC check svidkit replaces (perf-anchors.md's `xfcc-hook`): a regular expression
 * picks the first `URI=` out of the header and a `Set` holds the allowed callers. Wrong in several
 * ways (the first element, not the last; a `URI=` inside a quoted `Subject`; no check of who wrote
 * the header), but it is what users write and what svidkit has to beat.
 */
export function naiveXfccCheck(fixture) {
  const allowed = new Set([fixture.caller])
  const uri = /URI=([^;,]+)/
  return (header) => {
    const m = typeof header === 'string' ? uri.exec(header) : null
    return m !== null && allowed.has(m[1])
  }
}

/**
 * The hand-written mTLS check: Node's own client-certificate verification against the CA
 * (`requestCert`, `rejectUnauthorized`), then per request `getPeerCertificate()`, a regular
 * expression for the URI SAN and a `Set` (perf-anchors.md's `mtls-authctx`, for HTTP).
 */
export function naiveMtls(fixture) {
  const allowed = new Set([fixture.caller])
  const san = /URI:(spiffe:\/\/[^,\s]+)/
  return {
    serverOptions: {
      key: fixture.server.key,
      cert: fixture.server.cert,
      ca: fixture.caPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    check(socket) {
      const m = san.exec(socket.getPeerCertificate().subjectaltname ?? '')
      return m !== null && allowed.has(m[1])
    },
  }
}

/** Plain HTTPS (server certificate only): the `tls-bare` baseline. */
export function plainTlsOptions(fixture) {
  return { key: fixture.server.key, cert: fixture.server.cert }
}

/**
 * The floor: a hook that only checks the bearer token's ES256 signature with `node:crypto.verify`
 * (a `KeyObject` imported once, IEEE P1363 signature). No header or payload decoding, no claim check:
 * what no correct JWT verifier can go below.
 */
export function floorCheck(fixture) {
  const key = { key: createPublicKey(fixture.jwtPublicKeyPem), dsaEncoding: 'ieee-p1363' }
  return (authorization) => {
    if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) return false
    const dot = authorization.lastIndexOf('.')
    if (dot < 8) return false
    const signature = Buffer.from(authorization.slice(dot + 1), 'base64url')
    return verify('sha256', Buffer.from(authorization.slice(7, dot), 'latin1'), key, signature)
  }
}

/**
 * A practical floor for a correct JWT check (perf-anchors.md's "rawcrypto-hook"): split the token,
 * base64url-decode and `JSON.parse` header and payload, check `alg`, `aud` and `exp`, then the same
 * `node:crypto.verify`. What a hand-written, synchronous ES256 verifier costs at least.
 */
export function floorJwsCheck(fixture) {
  const key = { key: createPublicKey(fixture.jwtPublicKeyPem), dsaEncoding: 'ieee-p1363' }
  const audience = fixture.audience
  const json = (token, start, end) => JSON.parse(Buffer.from(token.slice(start, end), 'base64url').toString())
  return (authorization) => {
    if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) return false
    const token = authorization.slice(7)
    const dot1 = token.indexOf('.')
    const dot2 = token.indexOf('.', dot1 + 1)
    if (dot1 < 1 || dot2 < 0 || token.indexOf('.', dot2 + 1) !== -1) return false
    try {
      if (json(token, 0, dot1).alg !== 'ES256') return false
      const claims = json(token, dot1 + 1, dot2)
      const aud = claims.aud
      if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) return false
      if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return false
    } catch {
      return false
    }
    const signature = Buffer.from(token.slice(dot2 + 1), 'base64url')
    return verify('sha256', Buffer.from(token.slice(0, dot2), 'latin1'), key, signature)
  }
}

/** The anchors' verification options: the same ES256 public key and audience as svidkit. */
export function anchorKey(fixture) {
  return { pem: fixture.jwtPublicKeyPem, audience: fixture.audience }
}

/**
 * Tells run.mjs the server listens. SIGTERM and SIGINT exit normally, so `node --cpu-prof` (used to
 * profile a configuration under load) writes its profile.
 */
export function ready(port) {
  for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => process.exit(0))
  process.stdout.write(`READY ${port}\n`)
}
