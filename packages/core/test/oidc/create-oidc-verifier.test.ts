import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import https, { createServer, type Server } from 'node:https'
import { syncBuiltinESMExports } from 'node:module'
import type { AddressInfo } from 'node:net'
import { rootCertificates } from 'node:tls'
import { createOidcVerifier, type OidcIssuerOptions } from '@svidkit/core/oidc'
import { codeOf, TestCA } from '@svidkit/testing'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'

const realRequest = https.request

// A local HTTPS issuer (discovery + JWKS) with a certificate from the test CA.
let ca: TestCA
let server: Server
let issuer: string
let caPem: string
let keys: { kid: string; priv: KeyObject; pub: KeyObject }[]
let requests: string[]
let mode: 'ok' | 'hang' | 'error' | 'wrong-issuer' | 'http-jwks' = 'ok'

const rsaKey = (kid: string) => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { kid, priv: privateKey, pub: publicKey }
}

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  const web = await ca.issueWebCertificate({ ipAddresses: ['127.0.0.1'] })
  caPem = ca.x509Bundle().toPem()
  server = createServer({ key: web.privateKeyPem, cert: web.certificatesPem }, (req, res) => {
    requests.push(req.url ?? '')
    if (mode === 'hang') return
    if (mode === 'error') {
      res.writeHead(500).end()
      return
    }
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json')
      res.end(
        JSON.stringify({
          issuer: mode === 'wrong-issuer' ? 'https://evil.example' : issuer,
          jwks_uri: mode === 'http-jwks' ? `${issuer.replace('https:', 'http:')}/jwks` : `${issuer}/jwks`,
        }),
      )
    } else if (req.url === '/jwks') {
      res.setHeader('content-type', 'application/json')
      res.end(
        JSON.stringify({
          keys: keys.map((k) => ({
            ...k.pub.export({ format: 'jwk' }),
            kid: k.kid,
            use: 'sig',
            alg: 'RS256',
          })),
        }),
      )
    } else res.writeHead(404).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => new Promise<void>((r) => server.close(() => r())))

beforeEach(() => {
  keys = [rsaKey('k1')]
  requests = []
  mode = 'ok'
})

const options = (extra: Partial<OidcIssuerOptions> = {}): OidcIssuerOptions => ({
  issuer,
  audience: 'orders',
  ca: caPem,
  timeoutMs: 500,
  ...extra,
})

async function mint(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key = keys[0]!,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({
    sub: 'system:serviceaccount:shop:web',
    aud: 'orders',
    iss: issuer,
    iat: now,
    exp: now + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, ...header } as { alg: string })
    .sign(key.priv)
}

describe('OIDC verification', () => {
  test('a valid token through discovery: principal {iss, sub}, scopes from scope or scp', async () => {
    const v = createOidcVerifier([options()])
    const t = await v.verify(await mint({ scope: 'orders:read orders:write', scp: ['admin'] }))
    expect(t.principal).toEqual({ iss: issuer, sub: 'system:serviceaccount:shop:web' })
    expect(t.scopes).toEqual(['orders:read', 'orders:write', 'admin'])
    expect(Object.isFrozen(t.claims)).toBe(true)
    expect(requests).toEqual(['/.well-known/openid-configuration', '/jwks'])
    await v.verify(await mint())
    expect(requests).toHaveLength(2) // cached
  })

  test('explicit jwksUri skips discovery', async () => {
    const v = createOidcVerifier([options({ jwksUri: `${issuer}/jwks` })])
    await v.verify(await mint())
    expect(requests).toEqual(['/jwks'])
  })

  test.each([
    ['wrong audience', { aud: 'billing' }, {}, 'ERR_OIDC_AUDIENCE_MISMATCH'],
    ['expired', { exp: Math.floor(Date.now() / 1000) - 600 }, {}, 'ERR_OIDC_EXPIRED'],
    ['not yet valid', { nbf: Math.floor(Date.now() / 1000) + 600 }, {}, 'ERR_OIDC_NOT_YET_VALID'],
    ['no sub', { sub: undefined }, {}, 'ERR_OIDC_CLAIM_INVALID'],
    ['unknown issuer', { iss: 'https://other.example' }, {}, 'ERR_OIDC_ISSUER_UNKNOWN'],
    ['unknown kid', {}, { kid: 'nope' }, 'ERR_OIDC_KEY_NOT_FOUND'],
  ])('%s', async (_n, claims, header, code) => {
    const v = createOidcVerifier([options()])
    expect(await codeOf(v.verify(await mint(claims, header)))).toBe(code)
  })

  test('algorithm allowlist is checked before the key: PS256 refused unless listed', async () => {
    const v = createOidcVerifier([options({ algorithms: ['RS256'] })])
    const now = Math.floor(Date.now() / 1000)
    const ps = await new SignJWT({ sub: 's', aud: 'orders', iss: issuer, exp: now + 60 })
      .setProtectedHeader({ alg: 'PS256', kid: 'k1' })
      .sign(keys[0]!.priv)
    expect(await codeOf(v.verify(ps))).toBe('ERR_OIDC_ALG_NOT_ALLOWED')
    expect(requests).toEqual([])
    const none = `${Buffer.from('{"alg":"none","kid":"k1"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: issuer, sub: 's' })).toString('base64url')}.`
    expect(await codeOf(v.verify(none))).toBe('ERR_OIDC_ALG_NOT_ALLOWED')
  })

  test('a token signed by another key with a known kid fails the signature', async () => {
    const v = createOidcVerifier([options()])
    const forged = await mint({}, {}, { ...rsaKey('k1') })
    expect(await codeOf(v.verify(forged))).toBe('ERR_OIDC_SIGNATURE_INVALID')
  })

  test('unknown kid: refetch, then a cooldown limits refetches', async () => {
    const v = createOidcVerifier([options({ cooldownMs: 60_000 })])
    await v.verify(await mint())
    keys.push(rsaKey('k2'))
    // k2 appeared after the first fetch but the cooldown has not elapsed: no refetch.
    expect(await codeOf(v.verify(await mint({}, {}, keys[1]!)))).toBe('ERR_OIDC_KEY_NOT_FOUND')
    expect(requests.filter((r) => r === '/jwks')).toHaveLength(1)
    const eager = createOidcVerifier([options({ cooldownMs: 0 })])
    await eager.verify(await mint())
    keys.push(rsaKey('k3'))
    await eager.verify(await mint({}, {}, keys[2]!))
  })

  test('fetch timeout and errors fail closed (503 code); stale-if-error is opt-in', async () => {
    mode = 'hang'
    expect(await codeOf(createOidcVerifier([options()]).verify(await mint()))).toBe(
      'ERR_OIDC_JWKS_UNAVAILABLE',
    )
    mode = 'ok'
    const strict = createOidcVerifier([options({ jwksUri: `${issuer}/jwks`, cacheMaxAgeMs: 1 })])
    const lenient = createOidcVerifier([
      options({ jwksUri: `${issuer}/jwks`, cacheMaxAgeMs: 1, staleIfErrorMs: 60_000 }),
    ])
    const token = await mint()
    await strict.verify(token)
    await lenient.verify(token)
    await new Promise((r) => setTimeout(r, 5))
    mode = 'error'
    expect(await codeOf(strict.verify(token))).toBe('ERR_OIDC_JWKS_UNAVAILABLE')
    expect(await codeOf(lenient.verify(token))).toBe('OK')
  })

  test('a discovery document naming another issuer is refused', async () => {
    mode = 'wrong-issuer'
    expect(await codeOf(createOidcVerifier([options()]).verify(await mint()))).toBe(
      'ERR_OIDC_JWKS_UNAVAILABLE',
    )
  })

  test('a discovery document naming an http:// jwks_uri is an issuer failure (503), not an options error', async () => {
    mode = 'http-jwks'
    expect(await codeOf(createOidcVerifier([options()]).verify(await mint()))).toBe(
      'ERR_OIDC_JWKS_UNAVAILABLE',
    )
  })

  test('"ca" adds to the root store: the request trusts every root certificate and the configured CA', async () => {
    const seen: unknown[] = []
    const spy = vi.spyOn(https, 'request').mockImplementation(((...args: unknown[]) => {
      seen.push((args[1] as { ca?: unknown }).ca)
      return (realRequest as (...a: unknown[]) => ReturnType<typeof https.request>)(...args)
    }) as typeof https.request)
    syncBuiltinESMExports()
    try {
      expect(await codeOf(createOidcVerifier([options()]).verify(await mint()))).toBe('OK')
    } finally {
      spy.mockRestore()
      syncBuiltinESMExports()
    }
    expect(seen.length).toBeGreaterThan(0)
    for (const ca of seen) expect(ca).toEqual([...rootCertificates, caPem])
  })

  test('the issuer endpoint must present a trusted certificate', async () => {
    const v = createOidcVerifier([options({ ca: undefined })])
    expect(await codeOf(v.verify(await mint()))).toBe('ERR_OIDC_JWKS_UNAVAILABLE')
  })

  test('options are validated eagerly', () => {
    expect(() => createOidcVerifier([])).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
    expect(() => createOidcVerifier([{ issuer: 'x', audience: '' }])).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => createOidcVerifier([{ issuer: 'https://a', audience: 'a', algorithms: ['HS256'] }])).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
    expect(() => createOidcVerifier([{ issuer: 'http://a', audience: 'a' }])).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})
