// go-spiffe v2.9.0 as the reference Workload API client of svidkit's dev agent (@svidkit/testing
// DevAgent): X.509 contexts with hints, JWT-SVIDs and JWKS, bundles and their redaction, pushed
// rotations, error codes; and go-spiffe's spiffetls as the mTLS peer of svidkit's server and client,
// both directions, with refusals.
import { authorizeId } from '@svidkit/core/policy'
import { WorkloadApiClient, X509Source } from '@svidkit/core/workload-api'
import { DevAgent } from '@svidkit/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWith, errorCode, waitFor } from './harness/env.js'
import { runPeer, startPeer } from './harness/go-peer.js'
import { removeTempDir, tempDir } from './harness/processes.js'
import { startSvidkitServer, svidkitGet } from './harness/svidkit-https.js'

const TD = 'example.org'
const id = (path: string): string => `spiffe://${TD}${path}`
/** A serial number as go prints it (`big.Int.Bytes()` in lowercase hex: no leading zero bytes). */
const serial = (hex: string): string => hex.toLowerCase().replace(/^(00)+/, '')

interface WatchResult {
  updates: { ids?: string[]; serials?: string[]; trustDomains?: string[]; kids?: Record<string, string[]> }[]
  errors: string[]
}

describeWith(['goPeer'])("go-spiffe v2.9.0 against svidkit's dev agent", () => {
  let dir: string
  let dev: DevAgent
  const socket = (name: string): string => `unix://${dir}/${name}.sock`

  beforeAll(async () => {
    dir = tempDir('dev-agent-test')
    dev = await DevAgent.start({
      trustDomain: TD,
      sockets: [
        {
          name: 'web',
          socketPath: `${dir}/web.sock`,
          identities: [
            { spiffeId: '/web', hint: 'internal' },
            { spiffeId: '/web-admin', hint: 'external' },
          ],
        },
        { name: 'api', socketPath: `${dir}/api.sock`, identities: [{ spiffeId: '/api' }] },
        { name: 'batch', socketPath: `${dir}/batch.sock`, identities: [{ spiffeId: '/batch' }] },
        { name: 'nobody', socketPath: `${dir}/nobody.sock`, identities: [] },
      ],
      federation: ['partner.org'],
      svidTtlSeconds: 120,
    })
  })

  afterAll(async () => {
    await dev?.close()
    if (dir) removeTempDir(dir)
  })

  it('go-spiffe reads X.509 contexts, hints, bundles and JWT-SVIDs exactly as svidkit does', async () => {
    const go = await runPeer<{
      x509Svids: string[]
      x509Hints: string[]
      x509BundleTrustDomains: string[]
      x509BundlesTrustDomains: string[]
      jwtSubject: string
      jwtAudience: string[]
      jwtBundleTrustDomains: string[]
      localValidateError?: string
      validatedSubject: string
      wrongAudienceCode: string
      tamperedCode: string
    }>(['wapi', '-socket', socket('web'), '-audience', 'orders'])
    expect(go.json.ok, `${JSON.stringify(go.json)} ${go.stderr}`).toBe(true)
    const client = new WorkloadApiClient({ address: socket('web') })
    try {
      const ctx = await client.fetchX509Context()
      expect(go.json.x509Svids).toEqual([id('/web'), id('/web-admin')])
      expect(go.json.x509Svids).toEqual(ctx.svids.map((s) => s.id.toString()))
      expect(go.json.x509Hints).toEqual(['internal', 'external'])
      expect(go.json.x509Hints).toEqual(ctx.svids.map((s) => s.hint))
      expect(go.json.x509BundleTrustDomains).toEqual([TD, 'partner.org'])
      expect(go.json.x509BundlesTrustDomains).toEqual(
        (await client.fetchX509Bundles()).trustDomains().map(String),
      )
      expect(go.json.jwtBundleTrustDomains).toEqual(
        (await client.fetchJwtBundles()).trustDomains().map(String),
      )
      // The default JWT-SVID is the first identity's; go-jose parses the dev agent's tokens and JWKS.
      expect(go.json.jwtSubject).toBe(id('/web'))
      expect(go.json.jwtAudience).toEqual(['orders'])
      expect(go.json.localValidateError).toBeUndefined()
      expect(go.json.validatedSubject).toBe(id('/web'))
      // ValidateJWTSVID refusals are InvalidArgument, as SPIRE answers them.
      expect(go.json.wrongAudienceCode).toBe('InvalidArgument')
      expect(go.json.tamperedCode).toBe('InvalidArgument')
    } finally {
      client.close()
    }
  })

  it('a socket without identities: PermissionDenied for every fetch', async () => {
    const go = await runPeer(['wapi', '-socket', socket('nobody')])
    expect(go.json).toMatchObject({ ok: false, x509Code: 'PermissionDenied' })
    const probe = await runPeer<{ withHeader: Record<string, { code: string; message?: string }> }>([
      'probe',
      '-socket',
      socket('nobody'),
    ])
    expect(probe.json.withHeader).toMatchObject({
      FetchX509SVID: { code: 'PermissionDenied', message: 'no identity issued' },
      FetchX509Bundles: { code: 'PermissionDenied' },
      FetchJWTBundles: { code: 'PermissionDenied' },
      FetchJWTSVID: { code: 'PermissionDenied' },
      FetchWITSVID: { code: 'Unimplemented' },
    })
  })

  it("go-spiffe's watch sees the dev agent's pushed rotation, then PermissionDenied on revocation", async () => {
    const watch = await startPeer<WatchResult>([
      'watch',
      '-socket',
      socket('batch'),
      '-kind',
      'x509',
      '-updates',
      '2',
      '-until-code',
      'PermissionDenied',
      '-timeout',
      '30s',
    ])
    const first = dev.x509Svid('/batch')!.certificates[0]!.serialNumber
    expect(watch.ready).toBe(serial(first))
    await dev.rotateNow()
    const second = dev.x509Svid('/batch')!.certificates[0]!.serialNumber
    expect(second).not.toBe(first)
    expect(await watch.waitForLine('UPDATE 2')).toBe(`UPDATE 2 ${serial(second)}`)
    dev.revoke('/batch')
    const r = await watch.done
    expect(r.json.ok, JSON.stringify(r.json)).toBe(true)
    expect(r.json.updates.map((u) => u.serials?.[0])).toEqual([serial(first), serial(second)])
    expect(r.json.updates.every((u) => u.ids?.[0] === id('/batch'))).toBe(true)
    expect(r.json.errors).toContain('PermissionDenied')
  })

  it('JWT bundle and X.509 bundle watches: a rotated JWT key, a federated bundle added then redacted', async () => {
    const jwtWatch = await startPeer<WatchResult>([
      'watch',
      '-socket',
      socket('api'),
      '-kind',
      'jwt-bundles',
      '-updates',
      '2',
      '-timeout',
      '30s',
    ])
    const bundleWatch = await startPeer<WatchResult>([
      'watch',
      '-socket',
      socket('api'),
      '-kind',
      'x509-bundles',
      '-updates',
      '3',
      '-timeout',
      '30s',
    ])
    await using x509 = await X509Source.create({ address: socket('api'), timeoutMs: 10_000 })
    const oldKid = dev.ca.jwtKeyId
    const kid = await dev.rotateJwtKey()
    await dev.addFederatedBundle('other.org')
    await waitFor('svidkit to see other.org', () =>
      x509.bundles.trustDomains().map(String).includes('other.org'),
    )
    dev.removeFederatedBundle('other.org')
    await waitFor(
      'svidkit to drop other.org',
      () => !x509.bundles.trustDomains().map(String).includes('other.org'),
    )
    const jwt = await jwtWatch.done
    expect(jwt.json.ok, JSON.stringify(jwt.json)).toBe(true)
    // The rotated-out key stays in the bundle next to the new one.
    expect(jwt.json.updates[0]?.kids?.[TD]).toEqual([oldKid])
    expect(jwt.json.updates[1]?.kids?.[TD]).toEqual([kid, oldKid].sort())
    expect(Object.keys(jwt.json.updates[1]?.kids ?? {}).sort()).toEqual([TD, 'partner.org'])
    const bundles = await bundleWatch.done
    expect(bundles.json.ok, JSON.stringify(bundles.json)).toBe(true)
    expect(bundles.json.updates.map((u) => u.trustDomains)).toEqual([
      [TD, 'partner.org'],
      [TD, 'other.org', 'partner.org'],
      [TD, 'partner.org'],
    ])
  })

  it('mTLS: svidkit client → go-spiffe server (spiffetls, AuthorizeID), and refusals both ways', async () => {
    await using web = await X509Source.create({ address: socket('web'), timeoutMs: 10_000 })
    const go = await startPeer(['serve-mtls', '-socket', socket('api'), '-authorize-id', id('/web')])
    try {
      const ok = await svidkitGet(web, `https://${go.ready}/orders`, authorizeId(id('/api')))
      expect(ok.status, JSON.stringify(ok.body)).toBe(200)
      expect(ok.serverId).toBe(id('/api'))
      expect(ok.body).toEqual({ peer: id('/web'), path: '/orders' })
      const wrongServer = await svidkitGet(web, `https://${go.ready}/`, authorizeId(id('/batch'))).catch(
        (e: unknown) => e,
      )
      expect(errorCode(wrongServer)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    } finally {
      await go.stop()
    }
    const strict = await startPeer(['serve-mtls', '-socket', socket('api'), '-authorize-id', id('/batch')])
    try {
      const refused = await svidkitGet(web, `https://${strict.ready}/`, authorizeId(id('/api'))).catch(
        (e: unknown) => e,
      )
      expect(refused).toBeInstanceOf(Error)
    } finally {
      await strict.stop()
    }
  })

  it('mTLS: go-spiffe client → svidkit server (node:https), and refusals both ways', async () => {
    await using web = await X509Source.create({ address: socket('web'), timeoutMs: 10_000 })
    const srv = await startSvidkitServer(web, authorizeId(id('/api')))
    try {
      const ok = await runPeer([
        'call-mtls',
        '-socket',
        socket('api'),
        '-url',
        `${srv.url}/orders`,
        '-server-id',
        id('/web'),
      ])
      expect(ok.json, ok.stderr).toMatchObject({ ok: true, status: 200, tlsVersion: 'TLS 1.3' })
      expect(JSON.parse(ok.json.body as string)).toEqual({ peer: id('/api'), path: '/orders' })
      const wrongServer = await runPeer([
        'call-mtls',
        '-socket',
        socket('api'),
        '-url',
        srv.url,
        '-server-id',
        id('/batch'),
      ])
      expect(wrongServer.json.ok).toBe(false)
      expect(wrongServer.json.error).toMatch(/unexpected ID/)
      const wrongClient = await runPeer([
        'call-mtls',
        '-socket',
        socket('web'),
        '-url',
        srv.url,
        '-server-id',
        id('/web'),
      ])
      expect(wrongClient.json.ok).toBe(false)
      // (the server also saw the client above abort with a bad_certificate alert)
      await waitFor('the refusal to be reported', () =>
        srv.refused.some((e) => errorCode(e) === 'ERR_TLS_PEER_NOT_AUTHORIZED'),
      )
    } finally {
      await srv.close()
    }
  })
})
