import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, credentials, Metadata, status } from '@grpc/grpc-js'
import type { SvidkitError } from '@svidkit/core/errors'
import { fetchBundle } from '@svidkit/core/federation'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { fetchJwtSvid, WorkloadApiClient, X509Source } from '@svidkit/core/workload-api'
import {
  codeOf,
  DevAgent,
  type DevAgentPeer,
  loadDevAgentConfig,
  parseDevAgentConfig,
  TestCA,
} from '@svidkit/testing'
import { afterEach, describe, expect, test } from 'vitest'

const dirs: string[] = []
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'svidkit-agent-test-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const ids = async (address: string): Promise<string[]> => {
  const c = new WorkloadApiClient({ address })
  try {
    return (await c.fetchX509Svids()).map((s) => s.id.toString())
  } finally {
    c.close()
  }
}

describe('DevAgent: sockets and attestation', () => {
  test('a default temp socket; several sockets, each with its own identities; loopback TCP', async () => {
    const dir = tempDir()
    await using agent = await DevAgent.start({
      trustDomain: 'example.org',
      identities: [{ spiffeId: '/web' }],
      sockets: [
        {
          name: 'db',
          socketPath: join(dir, 'db.sock'),
          identities: [{ spiffeId: 'spiffe://example.org/db' }],
        },
        { name: 'tcp', tcp: { port: 0 }, identities: [{ spiffeId: '/batch', hint: 'batch' }] },
      ],
    })
    expect(agent.address).toMatch(/^unix:\/\/\/.+\/agent\.sock$/)
    expect(agent.sockets.map((s) => s.name)).toEqual([undefined, 'db', 'tcp'])
    const [main, db, tcp] = agent.sockets.map((s) => s.address)
    expect(db).toBe(`unix://${join(dir, 'db.sock')}`)
    expect(tcp).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    expect(await ids(main!)).toEqual(['spiffe://example.org/web'])
    expect(await ids(db!)).toEqual(['spiffe://example.org/db'])
    expect(await ids(tcp!)).toEqual(['spiffe://example.org/batch'])
    await agent.setIdentities([{ spiffeId: '/db' }, { spiffeId: '/db-admin' }], { socket: 'db' })
    expect(await ids(db!)).toEqual(['spiffe://example.org/db', 'spiffe://example.org/db-admin'])
  })

  test('pluggable attestation: attest(peer) decides; [] means PermissionDenied', async () => {
    const peers: DevAgentPeer[] = []
    await using agent = await DevAgent.start({
      identities: [{ spiffeId: '/web' }],
      attest: (peer) => {
        peers.push(peer)
        return peer.rpc === 'FetchJWTSVID' ? [] : [...peer.socketIdentities, { spiffeId: '/extra' }]
      },
    })
    expect(await ids(agent.address)).toEqual(['spiffe://example.org/web', 'spiffe://example.org/extra'])
    const err = await fetchJwtSvid({ audience: 'a' }, { address: agent.address }).catch(
      (e: SvidkitError) => e,
    )
    expect(err.code).toBe('ERR_WORKLOAD_API_PERMISSION_DENIED')
    expect(peers[0]).toMatchObject({ socket: 0, address: agent.address, rpc: 'FetchX509SVID' })
  })

  test('options are validated before anything starts', async () => {
    expect(await codeOf(() => DevAgent.start({ identities: [{ spiffeId: 'spiffe://other.org/x' }] }))).toBe(
      'ERR_OPTIONS_INVALID',
    )
    expect(
      await codeOf(() =>
        DevAgent.start({
          identities: [
            { spiffeId: '/a', hint: 'h' },
            { spiffeId: '/b', hint: 'h' },
          ],
        }),
      ),
    ).toBe('ERR_OPTIONS_INVALID')
    expect(await codeOf(() => DevAgent.start({ tcp: { host: '0.0.0.0' } }))).toBe('ERR_OPTIONS_INVALID')
    expect(await codeOf(() => DevAgent.start({ socketPath: 'relative.sock' }))).toBe('ERR_OPTIONS_INVALID')
    expect(await codeOf(() => DevAgent.start({ svidTtlSeconds: 1 }))).toBe('ERR_OPTIONS_INVALID')
    expect(await codeOf(() => DevAgent.start({ identities: [{ spiffeId: '/' }] }))).toBe(
      'ERR_OPTIONS_INVALID',
    )
    const partner = await TestCA.create({ trustDomain: 'partner.org' })
    expect(
      await codeOf(() => DevAgent.start({ federation: [{ trustDomain: 'other.org', ca: partner }] })),
    ).toBe('ERR_OPTIONS_INVALID')
  })
})

describe('DevAgent: protocol and controls', () => {
  test('security header, WIT RPCs, and the spec error codes on a raw client', async () => {
    await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }] })
    const raw = new Client(agent.address.replace('unix://', 'unix:'), credentials.createInsecure())
    const call = (path: string, md: Metadata) =>
      new Promise<number>((resolve) => {
        const s = raw.makeServerStreamRequest(
          path,
          () => Buffer.alloc(0),
          (b: Buffer) => b,
          {},
          md,
        )
        s.on('data', () => {
          s.cancel()
          resolve(0)
        })
        s.on('error', (e: { code: number }) => resolve(e.code))
      })
    try {
      expect(await call('/SpiffeWorkloadAPI/FetchJWTBundles', new Metadata())).toBe(status.INVALID_ARGUMENT)
      const md = new Metadata()
      md.set('workload.spiffe.io', 'true')
      expect(await call('/SpiffeWorkloadAPI/FetchJWTBundles', md)).toBe(0)
      expect(await call('/SpiffeWorkloadAPI/FetchWITSVID', md)).toBe(status.UNIMPLEMENTED)
      expect(await call('/SpiffeWorkloadAPI/FetchWITBundles', md)).toBe(status.UNIMPLEMENTED)
      // As SPIRE: the security header is checked first, on the WIT-SVID profile's RPCs too.
      expect(await call('/SpiffeWorkloadAPI/FetchWITSVID', new Metadata())).toBe(status.INVALID_ARGUMENT)
      expect(await call('/SpiffeWorkloadAPI/FetchWITBundles', new Metadata())).toBe(status.INVALID_ARGUMENT)
      expect(await call('/workload.SpiffeWorkloadAPI/FetchX509SVID', md)).toBe(status.UNIMPLEMENTED) // no package
    } finally {
      raw.close()
    }
  })

  test('short-TTL SVIDs are re-issued at half-life; rotateNow re-issues at once', async () => {
    await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }], svidTtlSeconds: 2 })
    const first = agent.x509Svid('/web')!
    expect(first.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(2000)
    await expect
      .poll(() => agent.x509Svid('/web')!.certificates[0]!.serialNumber, { timeout: 3000 })
      .not.toBe(first.certificates[0]!.serialNumber)
    const second = agent.x509Svid('/web')!
    await agent.rotateNow()
    expect(agent.x509Svid('/web')!.certificates[0]!.serialNumber).not.toBe(
      second.certificates[0]!.serialNumber,
    )
  })

  test('revoke, deny for a while, stop/start on the same socket', async () => {
    await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }, { spiffeId: '/db' }] })
    agent.revoke('/db')
    expect(await ids(agent.address)).toEqual(['spiffe://example.org/web'])
    agent.deny(200)
    expect(await codeOf(() => ids(agent.address))).toBe('ERR_WORKLOAD_API_PERMISSION_DENIED')
    await new Promise((r) => setTimeout(r, 250))
    expect(await ids(agent.address)).toEqual(['spiffe://example.org/web'])
    agent.deny()
    expect(await codeOf(() => ids(agent.address))).toBe('ERR_WORKLOAD_API_PERMISSION_DENIED')
    agent.allow()

    const path = agent.socketPath!
    await agent.stop()
    expect(agent.running).toBe(false)
    expect(existsSync(path)).toBe(false)
    expect(await codeOf(() => ids(agent.address))).toBe('ERR_WORKLOAD_API_UNAVAILABLE')
    await agent.start()
    expect(agent.running).toBe(true)
    expect(await ids(agent.address)).toEqual(['spiffe://example.org/web'])
    await agent.close()
    expect(existsSync(path)).toBe(false)
    await expect(agent.start()).rejects.toMatchObject({ code: 'ERR_OPTIONS_INVALID' })
  })

  test('federation: bundles in every map, added and removed at runtime; bundles() and federatedCa()', async () => {
    const partner = await TestCA.create({ trustDomain: 'partner.org' })
    await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }], federation: [partner] })
    expect(agent.federatedCa('partner.org')).toBe(partner)
    expect(agent.bundles().trustDomains().map(String)).toEqual(['example.org', 'partner.org'])
    const other = await agent.addFederatedBundle('other.org')
    expect(other.trustDomain.name).toBe('other.org')
    const c = new WorkloadApiClient({ address: agent.address })
    try {
      expect((await c.fetchX509Context()).bundles.trustDomains().map(String)).toEqual([
        'example.org',
        'other.org',
        'partner.org',
      ])
      agent.removeFederatedBundle('partner.org')
      expect((await c.fetchX509Bundles()).trustDomains().map(String)).toEqual(['example.org', 'other.org'])
      expect((await c.fetchJwtBundles()).trustDomains().map(String)).toEqual(['example.org', 'other.org'])
    } finally {
      c.close()
    }
    await expect(agent.addFederatedBundle('example.org')).rejects.toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
    })
  })

  test('CA rotation: prepared (in the bundle), active (issues every SVID), retired (out of the bundle)', async () => {
    await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }] })
    const old = agent.ca
    const c = new WorkloadApiClient({ address: agent.address })
    const roots = async () => {
      const ctx = await c.fetchX509Context()
      return {
        x509: ctx.bundles
          .getX509BundleForTrustDomain(agent.trustDomain)!
          .authorities.map((a) => a.fingerprint256),
        issuer: ctx.svids[0]!.certificates[0]!.issuer,
        jwtKeys: (await c.fetchJwtBundles()).getJwtBundleForTrustDomain(agent.trustDomain)!.authorities.size,
      }
    }
    try {
      expect(await codeOf(() => agent.activateCa())).toBe('ERR_OPTIONS_INVALID')
      const next = await agent.prepareCa()
      expect(agent.ca).toBe(old)
      expect(await roots()).toEqual({
        x509: [old.certificate.fingerprint256, next.certificate.fingerprint256],
        issuer: old.certificate.subject,
        jwtKeys: 2,
      })
      await agent.activateCa()
      expect(agent.ca).toBe(next)
      expect((await roots()).issuer).toBe(next.certificate.subject)
      expect(agent.retireCa()).toEqual([old])
      expect(await roots()).toEqual({
        x509: [next.certificate.fingerprint256],
        issuer: next.certificate.subject,
        jwtKeys: 1,
      })
      expect(agent.bundles().getX509BundleForTrustDomain(agent.trustDomain)!.authorities).toHaveLength(1)
    } finally {
      c.close()
    }
  })

  test('https_spiffe bundle endpoint: serves the SPIFFE bundle with an X.509-SVID of the trust domain', async () => {
    await using agent = await DevAgent.start({
      identities: [{ spiffeId: '/web' }],
      bundleEndpoint: { refreshHintSeconds: 60 },
    })
    expect(agent.bundleEndpointUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
    expect(agent.bundleEndpointId!.toString()).toBe('spiffe://example.org/spire/server')
    const bundle = await fetchBundle({
      trustDomain: 'example.org',
      url: agent.bundleEndpointUrl!,
      profile: 'https_spiffe',
      endpointSpiffeId: agent.bundleEndpointId!.toString(),
      bundleSource: agent.ca.x509Bundle(),
      timeoutMs: 5000,
    })
    expect(bundle.trustDomain.equals(TrustDomain.parse('example.org'))).toBe(true)
    expect(bundle.x509Bundle().hasAuthority(agent.ca.certificate)).toBe(true)
    expect(bundle.jwtBundle().findAuthority(agent.ca.jwtKeyId)).toBeDefined()
    expect(bundle.refreshHintSeconds).toBe(60)
    const seq = bundle.sequenceNumber!
    await agent.rotateJwtKey()
    const next = await fetchBundle({
      trustDomain: 'example.org',
      url: agent.bundleEndpointUrl!,
      profile: 'https_spiffe',
      endpointSpiffeId: agent.bundleEndpointId!.toString(),
      bundleSource: agent.ca.x509Bundle(),
      timeoutMs: 5000,
    })
    expect(next.sequenceNumber).toBe(seq + 1n)
  })

  test('works as SPIFFE_ENDPOINT_SOCKET for a source', async () => {
    await using agent = await DevAgent.start({ identities: [{ spiffeId: '/web' }] })
    const saved = process.env.SPIFFE_ENDPOINT_SOCKET
    process.env.SPIFFE_ENDPOINT_SOCKET = agent.address
    try {
      await using source = await X509Source.create()
      expect(source.getX509Svid().id.path).toBe('/web')
    } finally {
      if (saved === undefined) delete process.env.SPIFFE_ENDPOINT_SOCKET
      else process.env.SPIFFE_ENDPOINT_SOCKET = saved
    }
  })
})

describe('DevAgent configuration files', () => {
  test('YAML: every key, relative paths against the file, identities as strings or objects', async () => {
    const dir = tempDir()
    const file = join(dir, 'agent.yaml')
    writeFileSync(
      file,
      [
        'trustDomain: dev.test',
        'svidTtlSeconds: 30',
        'jwtSvidTtlSeconds: 120',
        'allowUnauthenticatedVerifiers: true',
        'socketPath: ./agent.sock',
        'identities:',
        '  - /web',
        '  - { spiffeId: /web-ext, hint: external }',
        'sockets:',
        '  - name: db',
        '    socketPath: db.sock',
        '    identities: [/db]',
        '  - tcp: 127.0.0.1:0',
        'federation:',
        '  - partner.test',
        '  - trustDomain: other.test',
        'bundleEndpoint:',
        '  port: 0',
        '  refreshHintSeconds: 30',
      ].join('\n'),
    )
    const options = await loadDevAgentConfig(file)
    expect(options).toMatchObject({
      trustDomain: 'dev.test',
      svidTtlSeconds: 30,
      jwtSvidTtlSeconds: 120,
      allowUnauthenticatedVerifiers: true,
      socketPath: join(dir, 'agent.sock'),
      identities: [{ spiffeId: '/web' }, { spiffeId: '/web-ext', hint: 'external' }],
      sockets: [
        { name: 'db', socketPath: join(dir, 'db.sock'), identities: [{ spiffeId: '/db' }] },
        { tcp: { host: '127.0.0.1', port: 0 } },
      ],
      federation: [{ trustDomain: 'partner.test' }, { trustDomain: 'other.test' }],
      bundleEndpoint: { port: 0, refreshHintSeconds: 30 },
    })
    await using agent = await DevAgent.start(options)
    expect(agent.address).toBe(`unix://${join(dir, 'agent.sock')}`)
    expect(await ids(agent.address)).toEqual(['spiffe://dev.test/web', 'spiffe://dev.test/web-ext'])
    expect(agent.federatedTrustDomains.map(String)).toEqual(['other.test', 'partner.test'])
  })

  test('JSON is accepted; unknown keys and bad values are errors naming the key', async () => {
    expect(parseDevAgentConfig('{"trustDomain":"a.test","identities":["/x"],"tcp":"[::1]:8081"}')).toEqual({
      trustDomain: 'a.test',
      identities: [{ spiffeId: '/x' }],
      tcp: { host: '::1', port: 8081 },
    })
    expect(parseDevAgentConfig('')).toEqual({})
    const bad = (text: string): string => {
      try {
        parseDevAgentConfig(text, { source: 'agent.yaml' })
      } catch (err) {
        return (err as SvidkitError).message
      }
      return 'OK'
    }
    expect(bad('identitys: [/x]')).toContain('agent.yaml: $.identitys: unknown key')
    expect(bad('svidTtlSeconds: fast')).toContain('$.svidTtlSeconds: must be an integer')
    expect(bad('identities: [{ spiffeId: /x, colour: red }]')).toContain(
      '$.identities[0].colour: unknown key',
    )
    expect(bad('sockets: [{ identities: [] }]')).toContain(
      '$.sockets[0]: set exactly one of socketPath and tcp',
    )
    expect(bad('socketPath: /a\ntcp: 127.0.0.1:1')).toContain('not both')
    expect(bad('[1, 2]')).toContain('must be a mapping')
    expect(bad('a: [')).toContain('not valid YAML or JSON')
    await expect(loadDevAgentConfig('/nonexistent/agent.yaml')).rejects.toMatchObject({
      code: 'ERR_OPTIONS_INVALID',
    })
  })
})
