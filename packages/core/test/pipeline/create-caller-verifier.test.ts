import type { X509Certificate } from 'node:crypto'
import { compileRoute } from '@svidkit/core/adapter'
import { memorySink } from '@svidkit/core/audit'
import { BundleSet } from '@svidkit/core/bundle'
import { createCallerVerifier } from '@svidkit/core/caller'
import { createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import { matchId, SpiffeId } from '@svidkit/core/spiffe-id'
import { formatXfcc } from '@svidkit/core/xfcc'
import { codeOf, TestCA, type TestX509Svid } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'

let ca: TestCA
let other: TestCA
let bundles: BundleSet
let web: TestX509Svid
let admin: TestX509Svid

const op = { kind: 'http', method: 'GET', path: '/orders/42' } as const

/** A stand-in for a TLS socket whose peer presented `chain`. */
function socketOf(chain: readonly X509Certificate[]) {
  const nodes = chain.map((c) => ({ raw: c.raw, issuerCertificate: undefined as unknown }))
  nodes.forEach((n, i) => {
    n.issuerCertificate = nodes[i + 1] ?? n
  })
  return { encrypted: true, getPeerCertificate: () => nodes[0] ?? {} }
}

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  other = await TestCA.create({ trustDomain: 'other.org' })
  bundles = new BundleSet([ca.spiffeBundle(), other.spiffeBundle()])
  web = await ca.issueX509Svid({ id: '/ns/shop/sa/web' })
  admin = await ca.issueX509Svid({ id: '/ns/ops/sa/admin' })
})

describe('channels', () => {
  test('mTLS from the socket, verified once per connection, with captures', async () => {
    const v = createCallerVerifier({ bundles, identityTemplates: ['/ns/{namespace}/sa/{serviceAccount}'] })
    const socket = socketOf(web.certificates)
    let reads = 0
    const counting = {
      ...socket,
      getPeerCertificate: () => {
        reads++
        return socket.getPeerCertificate()
      },
    }
    const r1 = await v.verifyCaller({ operation: op, socket: counting })
    const r2 = await v.verifyCaller({ operation: op, socket: counting })
    expect(r1.caller?.channel).toBe('mtls')
    expect(r1.caller?.spiffeId?.toString()).toBe('spiffe://example.org/ns/shop/sa/web')
    expect(r1.caller?.captures).toEqual({ namespace: 'shop', serviceAccount: 'web' })
    expect(r1.caller?.certificate?.fingerprint256).toBe(web.certificates[0]!.fingerprint256)
    expect(r2.caller).toEqual(r1.caller)
    expect(reads).toBe(1)
  })

  test('an mTLS peer of another trust domain CA claiming our ID is refused', async () => {
    const forged = await other.issueX509Svid({ id: 'spiffe://example.org/ns/shop/sa/web' })
    const v = createCallerVerifier({ bundles })
    expect(await codeOf(() => v.verifyCaller({ operation: op, socket: socketOf(forged.certificates) }))).toBe(
      'ERR_X509_SVID_UNTRUSTED',
    )
  })

  test('XFCC from a trusted proxy names the caller; the proxy mTLS identity does not', async () => {
    const proxy = await ca.issueX509Svid({ id: '/ingress' })
    const v = createCallerVerifier({
      bundles,
      xfcc: { trustedPeers: { spiffeId: matchId('spiffe://example.org/ingress') } },
    })
    const header = formatXfcc([
      { by: ['spiffe://example.org/ingress'], uri: ['spiffe://example.org/ns/shop/sa/web'] },
    ])
    const r = await v.verifyCaller({
      operation: op,
      xfcc: header,
      peerAddress: '127.0.0.1',
      socket: socketOf(proxy.certificates),
    })
    expect(r.caller?.channel).toBe('xfcc')
    expect(r.caller?.spiffeId?.toString()).toBe('spiffe://example.org/ns/shop/sa/web')
  })

  test('with the mTLS channel on, a proxy trusted by address alone is refused at startup', async () => {
    for (const options of [
      { xfcc: {} },
      { xfcc: { trustedPeers: { addresses: ['10.0.0.0/8'] } } },
      { forwardedCert: { format: 'nginx' as const, header: 'x-client-cert' } },
    ]) {
      expect(() => createCallerVerifier({ bundles, ...options })).toThrow(
        /with the mTLS channel on, name the proxy by its SPIFFE ID/,
      )
    }
    // Not terminating TLS (mtls: false), or mTLS not among the accepted channels: addresses are enough.
    expect(() => createCallerVerifier({ bundles, mtls: false, xfcc: {} })).not.toThrow()
    expect(() => createCallerVerifier({ bundles, channels: ['xfcc'], xfcc: {} })).not.toThrow()
  })

  test('insecureAddressOnly: address trust over mTLS on explicit request, with a startup warning', async () => {
    const warnings: string[] = []
    const logger = { info: () => {}, warn: (_o: object, msg: string) => warnings.push(msg) }
    const v = createCallerVerifier({
      bundles,
      xfcc: { trustedPeers: { insecureAddressOnly: true } },
      audit: { logger },
    })
    expect(warnings).toEqual([expect.stringContaining('xfcc.trustedPeers.insecureAddressOnly')])
    const header = formatXfcc([{ uri: ['spiffe://example.org/ns/ops/sa/admin'] }])
    const r = await v.verifyCaller({ operation: op, xfcc: header, peerAddress: '127.0.0.1' })
    expect(r.caller?.spiffeId?.toString()).toBe('spiffe://example.org/ns/ops/sa/admin')
  })

  test('over mTLS, only the proxy SVID may vouch: not its address, not another workload from it', async () => {
    const proxy = await ca.issueX509Svid({ id: '/ingress' })
    const v = createCallerVerifier({
      bundles,
      xfcc: { trustedPeers: { spiffeId: matchId('spiffe://example.org/ingress') } },
    })
    const header = formatXfcc([{ uri: ['spiffe://example.org/ns/ops/sa/admin'] }])
    const from = (certificates?: readonly X509Certificate[]) =>
      codeOf(() =>
        v.verifyCaller({
          operation: op,
          xfcc: header,
          peerAddress: '127.0.0.1',
          ...(certificates ? { socket: socketOf(certificates) } : {}),
        }),
      )
    expect(await from()).toBe('ERR_XFCC_UNTRUSTED_PEER')
    expect(await from(web.certificates)).toBe('ERR_XFCC_UNTRUSTED_PEER')
    expect(await from(proxy.certificates)).toBe('OK')
  })

  test('XFCC from an untrusted peer is refused; with xfcc not configured the header is ignored', async () => {
    const header = formatXfcc([{ uri: ['spiffe://example.org/ns/ops/sa/admin'] }])
    const v = createCallerVerifier({ bundles, mtls: false, xfcc: {} })
    expect(await codeOf(() => v.verifyCaller({ operation: op, xfcc: header, peerAddress: '10.0.0.9' }))).toBe(
      'ERR_XFCC_UNTRUSTED_PEER',
    )
    const noXfcc = createCallerVerifier({ bundles })
    expect(
      await codeOf(() => noXfcc.verifyCaller({ operation: op, xfcc: header, peerAddress: '127.0.0.1' })),
    ).toBe('ERR_CREDENTIALS_MISSING')
  })

  test('XFCC and a forwarded certificate from the same proxy must agree', async () => {
    const v = createCallerVerifier({
      bundles,
      mtls: false,
      xfcc: {},
      forwardedCert: { format: 'nginx', header: 'x-client-cert' },
    })
    const forwardedWeb = encodeURIComponent(web.certificatesPem)
    // A forged XFCC (carrying admin's real, public certificate) next to the proxy's own header.
    const forged = formatXfcc([
      { uri: ['spiffe://example.org/ns/ops/sa/admin'], cert: [encodeURIComponent(admin.certificatesPem)] },
    ])
    expect(
      await codeOf(() =>
        v.verifyCaller({
          operation: op,
          peerAddress: '127.0.0.1',
          xfcc: forged,
          forwardedCert: forwardedWeb,
        }),
      ),
    ).toBe('ERR_CREDENTIALS_CALLER_MISMATCH')
    const r = await v.verifyCaller({ operation: op, peerAddress: '127.0.0.1', forwardedCert: forwardedWeb })
    expect(r.caller).toMatchObject({ channel: 'xfcc' })
    expect(r.caller?.spiffeId?.toString()).toBe('spiffe://example.org/ns/shop/sa/web')
  })

  test('bundles may be a list of sources; the jwt channel needs JWT bundles', async () => {
    const x509Only = {
      getX509BundleForTrustDomain: (td: Parameters<BundleSet['getX509BundleForTrustDomain']>[0]) =>
        bundles.getX509BundleForTrustDomain(td),
    }
    expect(() => createCallerVerifier({ bundles: x509Only, jwt: { audience: 'orders' } })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    const jwtOnly = {
      getJwtBundleForTrustDomain: (td: Parameters<BundleSet['getJwtBundleForTrustDomain']>[0]) =>
        bundles.getJwtBundleForTrustDomain(td),
    }
    const v = createCallerVerifier({ bundles: [x509Only, jwtOnly], jwt: { audience: 'orders' } })
    const token = await ca.mintJwtSvid({ subject: '/ns/shop/sa/web', audience: 'orders' })
    expect((await v.verifyCaller({ operation: op, authorization: `Bearer ${token}` })).caller?.channel).toBe(
      'jwt',
    )
    expect(
      (await v.verifyCaller({ operation: op, socket: socketOf(web.certificates) })).caller?.channel,
    ).toBe('mtls')
  })

  test('JWT-SVID with scopes; wrong audience; malformed header is 400-class', async () => {
    const v = createCallerVerifier({ bundles, jwt: { audience: 'orders' } })
    const token = await ca.mintJwtSvid({
      subject: '/ns/shop/sa/web',
      audience: 'orders',
      claims: { scope: 'orders:read' },
    })
    const r = await v.verifyCaller({ operation: op, authorization: `Bearer ${token}` })
    expect(r.caller).toMatchObject({ channel: 'jwt', scopes: ['orders:read'] })
    const wrong = await ca.mintJwtSvid({ subject: '/ns/shop/sa/web', audience: 'billing' })
    expect(await codeOf(() => v.verifyCaller({ operation: op, authorization: `Bearer ${wrong}` }))).toBe(
      'ERR_JWT_SVID_AUDIENCE_MISMATCH',
    )
    expect(await codeOf(() => v.verifyCaller({ operation: op, authorization: 'Bearer a b c' }))).toBe(
      'ERR_CREDENTIALS_MALFORMED',
    )
    expect(
      await codeOf(() => v.verifyCaller({ operation: op, authorization: ['Bearer a', 'Bearer b'] })),
    ).toBe('ERR_CREDENTIALS_MALFORMED')
  })

  test('mTLS + JWT-SVID must name the same workload (by default); the token adds scopes', async () => {
    const v = createCallerVerifier({ bundles, jwt: { audience: 'orders' } })
    const same = await ca.mintJwtSvid({
      subject: '/ns/shop/sa/web',
      audience: 'orders',
      claims: { scope: 'a b' },
    })
    const r = await v.verifyCaller({
      operation: op,
      socket: socketOf(web.certificates),
      authorization: `Bearer ${same}`,
    })
    expect(r.caller).toMatchObject({ channel: 'mtls', scopes: ['a', 'b'] })
    const otherSub = await ca.mintJwtSvid({ subject: '/ns/ops/sa/admin', audience: 'orders' })
    expect(
      await codeOf(() =>
        v.verifyCaller({
          operation: op,
          socket: socketOf(web.certificates),
          authorization: `Bearer ${otherSub}`,
        }),
      ),
    ).toBe('ERR_CREDENTIALS_CALLER_MISMATCH')
    const relaxed = createCallerVerifier({ bundles, jwt: { audience: 'orders' }, requireSameWorkload: false })
    const r2 = await relaxed.verifyCaller({
      operation: op,
      socket: socketOf(web.certificates),
      authorization: `Bearer ${otherSub}`,
    })
    expect(r2.caller?.spiffeId?.toString()).toBe('spiffe://example.org/ns/shop/sa/web')
    expect(r2.caller?.scopes).toEqual([])
  })

  test('any present credential that fails verification fails the request (fail closed)', async () => {
    const v = createCallerVerifier({ bundles, jwt: { audience: 'orders' } })
    const expired = await ca.mintJwtSvid({ subject: '/ns/shop/sa/web', audience: 'orders', ttlSeconds: -600 })
    expect(
      await codeOf(() =>
        v.verifyCaller({
          operation: op,
          socket: socketOf(web.certificates),
          authorization: `Bearer ${expired}`,
        }),
      ),
    ).toBe('ERR_JWT_SVID_EXPIRED')
  })

  test('channel precedence is configurable; unlisted channels are ignored', async () => {
    const token = await ca.mintJwtSvid({ subject: '/ns/shop/sa/web', audience: 'orders' })
    const jwtFirst = createCallerVerifier({ bundles, jwt: { audience: 'orders' }, channels: ['jwt', 'mtls'] })
    const r = await jwtFirst.verifyCaller({
      operation: op,
      socket: socketOf(web.certificates),
      authorization: `Bearer ${token}`,
    })
    expect(r.caller?.channel).toBe('jwt')
    const jwtOnly = createCallerVerifier({ bundles, jwt: { audience: 'orders' }, channels: ['jwt'] })
    expect(
      await codeOf(() => jwtOnly.verifyCaller({ operation: op, socket: socketOf(admin.certificates) })),
    ).toBe('ERR_CREDENTIALS_MISSING')
    expect(() => createCallerVerifier({ bundles, channels: ['jwt'] })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })

  test('no credentials: 401 code, or undefined caller with optional auth', async () => {
    const v = createCallerVerifier({ bundles, jwt: { audience: 'orders' } })
    expect(await codeOf(() => v.verifyCaller({ operation: op }))).toBe('ERR_CREDENTIALS_MISSING')
    expect(await v.verifyCaller({ operation: op }, { optional: true })).toEqual({
      caller: undefined,
      decision: undefined,
    })
    // Optional never means "ignore bad credentials".
    expect(
      await codeOf(() =>
        v.verifyCaller({ operation: op, authorization: 'Bearer x.y.z' }, { optional: true }),
      ),
    ).toMatch(/^ERR_JWT_SVID_/)
  })
})

describe('authorization and audit', () => {
  test('route requirement, then the global policy; both audited; deny gives 403 codes', async () => {
    const audit = memorySink()
    const policy = createPolicyAuthorizer(
      definePolicy({
        identity: { template: '/ns/{namespace}/sa/{serviceAccount}' },
        rules: [
          { id: 'no-cross-namespace', action: 'DENY', boundary: { namespace: { notSameAs: 'self' } } },
          { id: 'read-orders', to: [{ methods: ['GET'], paths: ['/orders/{*}'] }] },
        ],
      }),
    )
    const v = createCallerVerifier({
      bundles,
      self: 'spiffe://example.org/ns/shop/sa/orders',
      identityTemplates: ['/ns/{namespace}/sa/{serviceAccount}'],
      jwt: { audience: 'orders' },
      authorizer: policy,
      audit: { sink: audit },
    })
    const ok = await v.verifyCaller({ operation: op, socket: socketOf(web.certificates) })
    expect(ok.decision).toMatchObject({ decision: 'allow', rule: 'read-orders' })
    expect(await codeOf(() => v.verifyCaller({ operation: op, socket: socketOf(admin.certificates) }))).toBe(
      'ERR_ACCESS_DENIED',
    )
    const needScope = compileRoute({ scopes: ['orders:read'] }, v).requirement
    expect(
      await codeOf(() =>
        v.verifyCaller({ operation: op, socket: socketOf(web.certificates) }, { requirement: needScope }),
      ),
    ).toBe('ERR_SCOPE_MISSING')
    expect(await codeOf(() => v.verifyCaller({ operation: op }))).toBe('ERR_CREDENTIALS_MISSING')
    expect(audit.events.map((e) => [e.caller, e.decision, e.rule, e.code ?? null])).toEqual([
      ['spiffe://example.org/ns/shop/sa/web', 'allow', 'read-orders', null],
      ['spiffe://example.org/ns/ops/sa/admin', 'deny', 'no-cross-namespace', null],
      ['spiffe://example.org/ns/shop/sa/web', 'deny', 'route', null],
      [null, 'deny', null, 'ERR_CREDENTIALS_MISSING'],
    ])
    expect(audit.events[1]!.reason).toContain('no-cross-namespace')
    expect(JSON.stringify(audit.events)).not.toMatch(/eyJ|BEGIN/)
  })

  test('self may be a source; the pipeline is synchronous without OIDC or async authorizers', async () => {
    const self = await ca.issueX509Svid({ id: '/ns/shop/sa/orders' })
    const v = createCallerVerifier({ bundles, self: { getX509Svid: () => self } })
    expect(v.self()?.equals(SpiffeId.parse('spiffe://example.org/ns/shop/sa/orders'))).toBe(true)
    const r = v.verifyCaller({ operation: op, socket: socketOf(web.certificates) })
    expect(r).not.toBeInstanceOf(Promise)
  })
})

describe('a credential that is present is never ignored', () => {
  const oidcOnly = () =>
    createCallerVerifier({
      bundles,
      mtls: false,
      oidc: {
        issuers: [
          { issuer: 'https://issuer.example', jwksUri: 'https://127.0.0.1:9/jwks', audience: 'orders' },
        ],
      },
    })
  const unsigned = (claims: object) =>
    `${Buffer.from('{"alg":"RS256","kid":"k"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`

  test.each([
    ['not-a-jwt', 'ERR_OIDC_MALFORMED'],
    ['a.b.c', 'ERR_OIDC_MALFORMED'],
    [unsigned({ iss: 'https://elsewhere.example', sub: 'u', aud: 'orders' }), 'ERR_OIDC_ISSUER_UNKNOWN'],
  ])('OIDC only: bearer %s is refused with %s, on optional routes too', async (token, code) => {
    const v = oidcOnly()
    for (const optional of [false, true]) {
      expect(
        await codeOf(() => v.verifyCaller({ operation: op, authorization: `Bearer ${token}` }, { optional })),
      ).toBe(code)
    }
  })

  test('a token from a configured OIDC issuer is refused when the oidc channel is not accepted', async () => {
    const v = createCallerVerifier({
      bundles,
      channels: ['mtls', 'jwt'],
      jwt: { audience: 'orders' },
      oidc: {
        issuers: [
          { issuer: 'https://issuer.example', jwksUri: 'https://127.0.0.1:9/jwks', audience: 'orders' },
        ],
      },
    })
    const token = unsigned({ iss: 'https://issuer.example', sub: 'u', aud: 'orders' })
    expect(
      await codeOf(() =>
        v.verifyCaller({ operation: op, authorization: `Bearer ${token}` }, { optional: true }),
      ),
    ).toBe('ERR_CREDENTIALS_CHANNEL_NOT_ALLOWED')
  })

  test('a JWT-SVID naming the trust domain ID is refused, as X.509 and XFCC refuse it', async () => {
    const v = createCallerVerifier({ bundles, jwt: { audience: 'orders' } })
    const root = await ca.mintJwtSvid({ subject: 'spiffe://example.org', audience: 'orders' })
    expect(await codeOf(() => v.verifyCaller({ operation: op, authorization: `Bearer ${root}` }))).toBe(
      'ERR_JWT_SVID_SUB_INVALID',
    )
    const workload = await ca.mintJwtSvid({ subject: '/ns/shop/sa/web', audience: 'orders' })
    expect(await codeOf(() => v.verifyCaller({ operation: op, authorization: `Bearer ${workload}` }))).toBe(
      'OK',
    )
  })

  test('authorization: null is no credential, not an internal error', async () => {
    const v = createCallerVerifier({ bundles, jwt: { audience: 'orders' } })
    expect(
      await codeOf(() => v.verifyCaller({ operation: op, authorization: null as unknown as undefined })),
    ).toBe('ERR_CREDENTIALS_MISSING')
    expect(
      await codeOf(() =>
        v.verifyCaller({ operation: op, authorization: null as unknown as undefined }, { optional: true }),
      ),
    ).toBe('OK')
  })
})

describe('repeated callers are the same objects (the decision fast path rests on it)', () => {
  test('per connection, per forwarded header and per token; results too; a bundle change starts afresh', async () => {
    const { StaticSource } = await import('@svidkit/core/source')
    const server = await ca.issueX509Svid({ id: '/ns/shop/sa/orders' })
    const source = new StaticSource({ svid: server, bundles })
    const policy = createPolicyAuthorizer(
      definePolicy({ rules: [{ id: 'all', from: [{ trustDomains: ['example.org'] }] }] }),
    )
    const v = createCallerVerifier({
      bundles: source,
      jwt: { audience: 'orders' },
      mtls: false,
      xfcc: {},
      authorizer: policy,
      audit: false,
    })
    const token = await ca.mintJwtSvid({ subject: '/ns/shop/sa/web', audience: 'orders' })
    const header = formatXfcc([{ uri: ['spiffe://example.org/ns/shop/sa/admin'] }])
    const byToken = () =>
      v.verifyCaller({ operation: op, authorization: `Bearer ${token}` }) as {
        caller: unknown
        decision: unknown
      }
    const byHeader = () =>
      v.verifyCaller({ operation: op, xfcc: Buffer.from(header).toString(), peerAddress: '127.0.0.1' }) as {
        caller: unknown
      }
    const t1 = byToken()
    expect(byToken()).toBe(t1)
    expect(byToken().decision).toBe(t1.decision)
    const h1 = byHeader()
    expect(byHeader().caller).toBe(h1.caller)
    source.update({ bundles })
    expect(byToken().caller).not.toBe(t1.caller)
    expect(byHeader().caller).not.toBe(h1.caller)
    expect(byToken().caller).toEqual(t1.caller)
    await source.close()
  })
})
