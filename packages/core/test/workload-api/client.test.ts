import { Client, credentials, Metadata, type ServerWritableStream, status } from '@grpc/grpc-js'
import { SvidkitError } from '@svidkit/core/errors'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import {
  fetchJwtBundles,
  fetchJwtSvid,
  fetchX509Bundles,
  fetchX509Context,
  fetchX509Svid,
  validateJwtSvid,
  WorkloadApiClient,
  type X509Context,
} from '@svidkit/core/workload-api'
import {
  WORKLOAD_API_SECURITY_HEADER,
  workloadApiServiceDefinition,
  type X509SvidResponseMessage,
} from '@svidkit/core/workload-api/proto'
import { DevAgent, TestCA } from '@svidkit/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type FakeServer, startFakeServer } from './fake-server.js'

const errorOf = async (p: Promise<unknown> | (() => unknown)): Promise<SvidkitError> => {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    if (err instanceof SvidkitError) return err
    throw err
  }
  throw new Error('expected an error')
}

const td = (name: string) => TrustDomain.parse(name)

let root: TestCA
let agent: DevAgent
let client: WorkloadApiClient

beforeAll(async () => {
  root = await TestCA.create({ trustDomain: 'example.org' })
  const intermediate = await root.createIntermediate()
  agent = await DevAgent.start({
    ca: intermediate,
    identities: [
      { spiffeId: '/web', hint: 'internal' },
      { spiffeId: '/web-ext', hint: 'external' },
      { spiffeId: '/db' },
    ],
    federation: ['partner.org'],
    svidTtlSeconds: 60,
  })
  client = new WorkloadApiClient({ address: agent.address })
})

afterAll(async () => {
  client?.close()
  await agent?.close()
})

describe('X.509-SVID profile', () => {
  test('FetchX509SVID: every SVID, in order, with hints; chains are concatenated DER with intermediates', async () => {
    const ctx = await client.fetchX509Context()
    expect(ctx.svids.map((s) => s.id.toString())).toEqual([
      'spiffe://example.org/web',
      'spiffe://example.org/web-ext',
      'spiffe://example.org/db',
    ])
    expect(ctx.svids.map((s) => s.hint)).toEqual(['internal', 'external', undefined])
    const web = ctx.svids[0]!
    expect(web.certificates).toHaveLength(2) // leaf + intermediate
    expect(web.certificates[1]!.fingerprint256).toBe(agent.ca.certificate.fingerprint256)
    expect(web.privateKey.type).toBe('private')
    expect(web.certificates[0]!.serialNumber).toBe(agent.x509Svid('/web')!.certificates[0]!.serialNumber)
    // Own bundle (the root: the intermediate's TestCA bundle is its root) + the federated one.
    expect(ctx.bundles.trustDomains().map(String)).toEqual(['example.org', 'partner.org'])
    expect(ctx.bundles.getX509BundleForTrustDomain(td('example.org'))!.authorities[0]!.fingerprint256).toBe(
      root.certificate.fingerprint256,
    )
    expect(
      ctx.bundles
        .getX509BundleForTrustDomain(td('partner.org'))!
        .hasAuthority(agent.federatedCa('partner.org')!.certificate),
    ).toBe(true)
  })

  test('fetchX509Svid returns the default (first) SVID; fetchX509Svids all', async () => {
    expect((await client.fetchX509Svid()).id.toString()).toBe('spiffe://example.org/web')
    expect(await client.fetchX509Svids()).toHaveLength(3)
  })

  test('FetchX509Bundles: own and federated bundles, keyed by trust domain', async () => {
    const set = await client.fetchX509Bundles()
    expect(set.trustDomains().map(String)).toEqual(['example.org', 'partner.org'])
    expect(set.getJwtBundleForTrustDomain(td('example.org'))).toBeUndefined()
  })

  test('watchX509Context: rotation arrives on the open stream; the abort signal ends the watch', async () => {
    const ac = new AbortController()
    const seen: X509Context[] = []
    let resolveSecond: () => void
    const second = new Promise<void>((r) => {
      resolveSecond = r
    })
    const watch = client.watchX509Context(
      {
        onUpdate: (ctx) => {
          seen.push(ctx)
          if (seen.length === 2) resolveSecond()
        },
      },
      { signal: ac.signal },
    )
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(1)
    await agent.rotateNow()
    await second
    expect(seen[1]!.svids[0]!.certificates[0]!.serialNumber).not.toBe(
      seen[0]!.svids[0]!.certificates[0]!.serialNumber,
    )
    ac.abort()
    await expect(watch).resolves.toBeUndefined()
  })
})

describe('JWT-SVID profile', () => {
  test('FetchJWTSVID: default identity, audience as a string for one and a list for several', async () => {
    const one = await client.fetchJwtSvid({ audience: 'spiffe://example.org/orders' })
    expect(one.id.toString()).toBe('spiffe://example.org/web')
    expect(one.audience).toEqual(['spiffe://example.org/orders'])
    expect(one.hint).toBe('internal')
    expect(one.token.split('.')).toHaveLength(3)
    expect(one.expiresAt.getTime()).toBeGreaterThan(Date.now())
    const several = await client.fetchJwtSvid({ audience: 'a', extraAudiences: ['b', 'c'] })
    expect(several.audience).toEqual(['a', 'b', 'c'])
  })

  test('FetchJWTSVID: every identity without subject; one with subject; PermissionDenied for another', async () => {
    const all = await client.fetchJwtSvids({ audience: 'a' })
    expect(all.map((s) => s.id.toString())).toEqual([
      'spiffe://example.org/web',
      'spiffe://example.org/web-ext',
      'spiffe://example.org/db',
    ])
    const db = await client.fetchJwtSvid({ audience: 'a', subject: 'spiffe://example.org/db' })
    expect(db.id.toString()).toBe('spiffe://example.org/db')
    const err = await errorOf(client.fetchJwtSvid({ audience: 'a', subject: 'spiffe://example.org/nope' }))
    expect(err.code).toBe('ERR_WORKLOAD_API_PERMISSION_DENIED')
    expect(err.details).toMatchObject({ grpcCode: status.PERMISSION_DENIED, rpc: 'FetchJWTSVID' })
  })

  test('FetchJWTSVID: params are checked locally', async () => {
    expect((await errorOf(client.fetchJwtSvid({ audience: '' }))).code).toBe('ERR_OPTIONS_INVALID')
    expect((await errorOf(client.fetchJwtSvid({ audience: 'a', subject: 'not-an-id' }))).code).toBe(
      'ERR_OPTIONS_INVALID',
    )
  })

  test('FetchJWTBundles: JWKS per trust domain, own and federated', async () => {
    const set = await client.fetchJwtBundles()
    expect(set.trustDomains().map(String)).toEqual(['example.org', 'partner.org'])
    expect(set.getJwtBundleForTrustDomain(td('example.org'))!.findAuthority(agent.ca.jwtKeyId)).toBeDefined()
  })

  test('ValidateJWTSVID: valid token → the agent-validated ID and claims', async () => {
    const svid = await client.fetchJwtSvid({ audience: 'orders' })
    const v = await client.validateJwtSvid(svid.token, 'orders')
    expect(v.id.toString()).toBe('spiffe://example.org/web')
    // aud always as a list, as SPIRE's agent returns it (even for a single-string aud)
    expect(v.claims).toMatchObject({ sub: 'spiffe://example.org/web', aud: ['orders'] })
    expect(typeof v.claims.exp).toBe('number')
    expect(v.audience).toEqual(['orders'])
  })

  test('ValidateJWTSVID: InvalidArgument means "token invalid" → ERR_WORKLOAD_API_JWT_SVID_INVALID', async () => {
    const svid = await client.fetchJwtSvid({ audience: 'orders' })
    const wrongAud = await errorOf(client.validateJwtSvid(svid.token, 'another-audience'))
    expect(wrongAud.code).toBe('ERR_WORKLOAD_API_JWT_SVID_INVALID')
    expect(wrongAud.details).toMatchObject({ grpcCode: status.INVALID_ARGUMENT })
    const sig = svid.token.slice(-8)
    const tampered = svid.token.slice(0, -8) + [...sig].map((c) => (c === 'A' ? 'B' : 'A')).join('')
    expect((await errorOf(client.validateJwtSvid(tampered, 'orders'))).code).toBe(
      'ERR_WORKLOAD_API_JWT_SVID_INVALID',
    )
    const forged = await (await TestCA.create({ trustDomain: 'example.org' })).mintJwtSvid({
      subject: '/web',
      audience: 'orders',
    })
    expect((await errorOf(client.validateJwtSvid(forged, 'orders'))).code).toBe(
      'ERR_WORKLOAD_API_JWT_SVID_INVALID',
    )
    expect((await errorOf(client.validateJwtSvid('', 'orders'))).code).toBe('ERR_OPTIONS_INVALID')
    expect((await errorOf(client.validateJwtSvid(svid.token, ''))).code).toBe('ERR_OPTIONS_INVALID')
  })

  test('ValidateJWTSVID: a federated token validates; foreign claims are filtered as SPIRE does', async () => {
    const token = await agent.federatedCa('partner.org')!.mintJwtSvid({
      subject: '/api',
      audience: 'orders',
      claims: { scope: 'read' },
    })
    const v = await client.validateJwtSvid(token, 'orders')
    expect(v.id.toString()).toBe('spiffe://partner.org/api')
    expect(Object.keys(v.claims).sort()).toEqual(['aud', 'exp', 'sub'])
  })
})

describe('one-shot helpers', () => {
  test('fetch* and validateJwtSvid open and close their own client, or reuse one', async () => {
    const address = agent.address
    expect((await fetchX509Svid({ address })).id.toString()).toBe('spiffe://example.org/web')
    expect((await fetchX509Context({ address })).svids).toHaveLength(3)
    expect((await fetchX509Bundles({ address })).size).toBe(2)
    expect((await fetchJwtBundles({ address })).size).toBe(2)
    const jwt = await fetchJwtSvid({ audience: 'x' }, { address })
    expect((await validateJwtSvid(jwt.token, 'x', { client })).id.toString()).toBe('spiffe://example.org/web')
    expect(client.closed).toBe(false)
  })
})

describe('errors', () => {
  test('a missing security header is refused with InvalidArgument (raw gRPC client, no metadata)', async () => {
    const raw = new Client(agent.address.replace('unix://', 'unix:'), credentials.createInsecure())
    try {
      const x509 = workloadApiServiceDefinition.FetchX509SVID
      const streamCode = await new Promise<number>((resolve) => {
        const call = raw.makeServerStreamRequest(
          x509.path,
          x509.requestSerialize,
          x509.responseDeserialize,
          {},
          new Metadata(),
        )
        call.on('data', () => resolve(-1))
        call.on('error', (e: { code: number }) => resolve(e.code))
      })
      expect(streamCode).toBe(status.INVALID_ARGUMENT)
      const jwt = workloadApiServiceDefinition.FetchJWTSVID
      const unary = await new Promise<{ code: number; details: string }>((resolve) => {
        const md = new Metadata()
        md.set(WORKLOAD_API_SECURITY_HEADER, 'false') // present but not "true"
        raw.makeUnaryRequest(
          jwt.path,
          jwt.requestSerialize,
          jwt.responseDeserialize,
          { audience: ['a'], spiffeId: '' },
          md,
          (e) => resolve(e as unknown as { code: number; details: string }),
        )
      })
      expect(unary.code).toBe(status.INVALID_ARGUMENT)
      expect(unary.details).toContain('security header')
    } finally {
      raw.close()
    }
  })

  test('no identity: PermissionDenied on every RPC that needs one', async () => {
    await using bare = await DevAgent.start({ identities: [] })
    const c = new WorkloadApiClient({ address: bare.address })
    try {
      for (const p of [
        c.fetchX509Context(),
        c.fetchX509Bundles(),
        c.fetchJwtBundles(),
        c.fetchJwtSvid({ audience: 'a' }),
      ]) {
        expect((await errorOf(p)).code).toBe('ERR_WORKLOAD_API_PERMISSION_DENIED')
      }
    } finally {
      c.close()
    }
  })

  test('unreachable socket: ERR_WORKLOAD_API_UNAVAILABLE', async () => {
    const c = new WorkloadApiClient({ address: 'unix:///tmp/svidkit-no-such-dir/agent.sock' })
    try {
      const err = await errorOf(c.fetchX509Context())
      expect(err.code).toBe('ERR_WORKLOAD_API_UNAVAILABLE')
      expect(err.details).toMatchObject({ grpcCode: status.UNAVAILABLE })
    } finally {
      c.close()
    }
  })

  test('AbortSignal: aborted → ERR_WORKLOAD_API_ABORTED; AbortSignal.timeout → ERR_WORKLOAD_API_TIMEOUT', async () => {
    const silent = await startFakeServer({ FetchX509SVID: () => undefined, FetchJWTSVID: () => undefined })
    const c = new WorkloadApiClient({ address: silent.address })
    try {
      const ac = new AbortController()
      ac.abort()
      expect((await errorOf(c.fetchX509Context({ signal: ac.signal }))).code).toBe('ERR_WORKLOAD_API_ABORTED')
      expect((await errorOf(c.fetchX509Context({ signal: AbortSignal.timeout(100) }))).code).toBe(
        'ERR_WORKLOAD_API_TIMEOUT',
      )
      const late = new AbortController()
      setTimeout(() => late.abort(), 50)
      expect((await errorOf(c.fetchJwtSvid({ audience: 'a' }, { signal: late.signal }))).code).toBe(
        'ERR_WORKLOAD_API_ABORTED',
      )
    } finally {
      c.close()
      await silent.close()
    }
  })

  test('a closed client refuses calls', async () => {
    const c = new WorkloadApiClient({ address: agent.address })
    c.close()
    c.close()
    expect((await errorOf(c.fetchX509Svid())).code).toBe('ERR_WORKLOAD_API_ABORTED')
  })

  test('close() cancels the calls in progress: an open watch rejects at once', async () => {
    const c = new WorkloadApiClient({ address: agent.address })
    let updates = 0
    const watch = c.watchX509Context({ onUpdate: () => updates++ })
    await expect.poll(() => updates, { timeout: 5000 }).toBe(1)
    c.close()
    expect((await errorOf(watch)).code).toBe('ERR_WORKLOAD_API_ABORTED')
  })
})

describe('message rules (scripted server)', () => {
  let ca: TestCA
  let fed: TestCA
  let server: FakeServer | undefined

  beforeAll(async () => {
    ca = await TestCA.create({ trustDomain: 'example.org' })
    fed = await TestCA.create({ trustDomain: 'partner.org' })
  })
  afterAll(async () => server?.close())

  const svidMsg = async (path: string, hint = '') => {
    const s = await ca.issueX509Svid({ id: path })
    return {
      spiffeId: s.id.toString(),
      x509Svid: Buffer.concat(s.certificatesDer),
      x509SvidKey: s.privateKey.export({ format: 'der', type: 'pkcs8' }),
      bundle: ca.x509Bundle().toDer(),
      hint,
    }
  }

  test('duplicate hints: the first wins; bare trust domain keys are accepted', async () => {
    const msg: X509SvidResponseMessage = {
      svids: [await svidMsg('/a', 'x'), await svidMsg('/b', 'x'), await svidMsg('/c'), await svidMsg('/d')],
      crl: [],
      federatedBundles: { 'partner.org': fed.x509Bundle().toDer() },
    }
    server = await startFakeServer({
      FetchX509SVID: (call: ServerWritableStream<unknown, unknown>) => {
        call.write(msg)
        call.end()
      },
      FetchJWTBundles: (call: ServerWritableStream<unknown, unknown>) => {
        call.write({ bundles: { 'example.org': Buffer.from(JSON.stringify(ca.jwtBundle().toJwks())) } })
        call.end()
      },
    })
    const ctx = await fetchX509Context({ address: server.address })
    expect(ctx.svids.map((s) => s.id.path)).toEqual(['/a', '/c', '/d'])
    expect(ctx.bundles.trustDomains().map(String)).toEqual(['example.org', 'partner.org'])
    const jwt = await fetchJwtBundles({ address: server.address })
    expect(jwt.trustDomains().map(String)).toEqual(['example.org'])
    await server.close()
    server = undefined
  })

  test('an X.509-SVID chain of more than MAX_CHAIN_CERTIFICATES certificates is a malformed response', async () => {
    const good = await svidMsg('/long')
    const tooLong = Buffer.concat([good.x509Svid, ...Array.from({ length: 16 }, () => ca.certificate.raw)])
    server = await startFakeServer({
      FetchX509SVID: (call: ServerWritableStream<unknown, unknown>) => {
        call.write({ svids: [{ ...good, x509Svid: tooLong }], crl: [], federatedBundles: {} })
        call.end()
      },
    })
    try {
      const err = await errorOf(fetchX509Context({ address: server.address }))
      expect(err.code).toBe('ERR_WORKLOAD_API_MALFORMED_RESPONSE')
      expect((err.cause as SvidkitError).code).toBe('ERR_X509_SVID_TOO_LARGE')
    } finally {
      await server.close()
      server = undefined
    }
  })

  test('a mandatory field at its default: fetch fails; a watch reports it, discards it and keeps the stream', async () => {
    const good = await svidMsg('/good')
    let calls = 0
    server = await startFakeServer({
      FetchX509SVID: (call: ServerWritableStream<unknown, unknown>) => {
        calls++
        call.write({ svids: [], crl: [], federatedBundles: {} }) // svids is mandatory
        call.write({ svids: [{ ...good, x509SvidKey: Buffer.alloc(0) }], crl: [], federatedBundles: {} })
        call.write({ svids: [good], crl: [], federatedBundles: {} })
      },
      ValidateJWTSVID: (_call: unknown, cb: (e: null, r: unknown) => void) =>
        cb(null, { spiffeId: 'spiffe://example.org/good', claims: null }),
    })
    const c = new WorkloadApiClient({ address: server.address })
    try {
      const err = await errorOf(c.fetchX509Context())
      expect(err.code).toBe('ERR_WORKLOAD_API_MALFORMED_RESPONSE')
      expect(err.message).toContain('no svids')
      const errors: string[] = []
      const updates: X509Context[] = []
      const ac = new AbortController()
      const watch = c.watchX509Context(
        { onUpdate: (x) => updates.push(x), onError: (e) => errors.push(e.reason) },
        { signal: ac.signal },
      )
      await expect.poll(() => updates.length, { timeout: 5000 }).toBe(1)
      expect(errors).toEqual([
        'X509SVIDResponse has no svids (mandatory field)',
        'X509SVIDResponse svid 0 has no x509_svid_key (mandatory field)',
      ])
      expect(updates[0]!.svids[0]!.id.path).toBe('/good')
      ac.abort()
      await watch
      expect(calls).toBe(2) // the one-shot fetch, then one watch stream (never reopened)
      const noClaims = await errorOf(c.validateJwtSvid('a.b.c', 'aud'))
      expect(noClaims.code).toBe('ERR_WORKLOAD_API_MALFORMED_RESPONSE')
    } finally {
      c.close()
      await server.close()
      server = undefined
    }
  })

  test('watch retry rules: a clean end reconnects at once; PermissionDenied/Unavailable retried; InvalidArgument final', async () => {
    const good = await svidMsg('/good')
    let calls = 0
    server = await startFakeServer({
      FetchX509SVID: (call: ServerWritableStream<unknown, unknown>) => {
        calls++
        if (calls === 1 || calls === 2) {
          call.write({ svids: [good], crl: [], federatedBundles: {} })
          call.end() // clean end after a message: reconnect immediately
        } else if (calls === 3)
          call.emit('error', { code: status.PERMISSION_DENIED, details: 'no identity issued' })
        else if (calls === 4) call.emit('error', { code: status.UNAVAILABLE, details: 'busy' })
        else call.emit('error', { code: status.INVALID_ARGUMENT, details: 'stop' })
      },
    })
    const c = new WorkloadApiClient({ address: server.address })
    try {
      const errors: (string | undefined)[] = []
      let updates = 0
      const started = Date.now()
      const watch = c.watchX509Context(
        {
          onUpdate: () => updates++,
          onError: (e) => errors.push(e.details?.grpcStatus as string | undefined),
        },
        { backoff: { initialMs: 20, maxMs: 40 } },
      )
      const err = await errorOf(watch)
      expect(err.code).toBe('ERR_WORKLOAD_API_INVALID_ARGUMENT')
      expect(updates).toBe(2)
      expect(errors).toEqual(['PERMISSION_DENIED', 'UNAVAILABLE', 'INVALID_ARGUMENT'])
      expect(calls).toBe(5)
      expect(Date.now() - started).toBeLessThan(3000)
    } finally {
      c.close()
      await server.close()
      server = undefined
    }
  })

  test('Unimplemented is final for a watch', async () => {
    server = await startFakeServer({})
    const c = new WorkloadApiClient({ address: server.address })
    try {
      const err = await errorOf(
        c.watchX509Bundles({ onUpdate: () => undefined }, { backoff: { initialMs: 10 } }),
      )
      expect(err.code).toBe('ERR_WORKLOAD_API_UNIMPLEMENTED')
    } finally {
      c.close()
      await server.close()
      server = undefined
    }
  })
})
