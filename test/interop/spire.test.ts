// svidkit against a real SPIRE v1.15.3 server and agent (one trust domain), with go-spiffe v2.9.0 as
// the second opinion: sources, rotation, JWT-SVIDs, validation verdicts, bundles, mTLS both ways,
// the agent's error codes compared with svidkit's DevAgent, SPIRE's SVID served by the svidkit gRPC
// server, entry deletion (PermissionDenied) and an agent killed mid-stream.
import { X509Certificate } from 'node:crypto'
import { SpiffeBundle, X509Bundle } from '@svidkit/core/bundle'
import { verifyJwtSvid } from '@svidkit/core/jwt-svid'
import { authorizeId } from '@svidkit/core/policy'
import {
  BundleSource,
  fetchX509Context,
  JwtSource,
  WorkloadApiClient,
  X509Source,
} from '@svidkit/core/workload-api'
import { verifyX509Svid } from '@svidkit/core/x509-svid'
import { DevAgent } from '@svidkit/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWith, errorCode, myUid, peerUid, sleep, strangerUid, waitFor } from './harness/env.js'
import { runPeer, startPeer } from './harness/go-peer.js'
import {
  accepted,
  agentVerdict,
  goVerdict,
  jwtPart,
  svidkitVerdict,
  tamperSignature,
  withClaims,
} from './harness/jwt.js'
import { removeTempDir, tempDir } from './harness/processes.js'
import { SpireAgent, SpireServer } from './harness/spire.js'
import { startSvidkitGrpcServer } from './harness/svidkit-grpc.js'
import { startSvidkitServer, svidkitGet } from './harness/svidkit-https.js'

const TD = 'a.svidkit.test'
const nodeId = `spiffe://${TD}/workload/node`
const peerId = `spiffe://${TD}/workload/go-peer`
const otherId = `spiffe://${TD}/workload/someone-else`
const X509_TTL_SECONDS = 30
const fastBackoff = { initialMs: 200, maxMs: 2_000 }

const leafSerial = (source: X509Source): string => source.getX509Svid().certificates[0]!.serialNumber
/** A serial number as go prints it (`big.Int.Bytes()` in lowercase hex: no leading zero bytes). */
const serialHex = (hex: string): string => hex.toLowerCase().replace(/^(00)+/, '')

describeWith(['spireServer', 'spireAgent', 'goPeer'])('svidkit and go-spiffe against SPIRE v1.15.3', () => {
  let server: SpireServer
  let agent: SpireAgent
  let dir: string
  let nodeEntry: string
  let x509: X509Source
  let jwt: JwtSource
  let bundles: BundleSource
  let client: WorkloadApiClient
  /** A server-minted token with a 1 s TTL, checked at the end once it is past the 60 s leeway. */
  let expiring: { token: string; exp: number }

  beforeAll(async () => {
    dir = tempDir('spire-test')
    server = await SpireServer.start({ name: 'a', trustDomain: TD, x509SvidTtl: `${X509_TTL_SECONDS}s` })
    agent = await SpireAgent.start({ name: 'a', server })
    nodeEntry = await server.createEntry({
      parentId: agent.spiffeId,
      spiffeId: nodeId,
      selectors: [`unix:uid:${myUid}`],
      hint: 'internal',
    })
    if (peerUid !== undefined) {
      await server.createEntry({
        parentId: agent.spiffeId,
        spiffeId: peerId,
        selectors: [`unix:uid:${peerUid}`],
      })
    }
    const token = await server.mintJwtSvid(nodeId, ['interop-expiry'], '1s')
    expiring = { token, exp: jwtPart(token, 1).exp as number }
    client = new WorkloadApiClient({ address: agent.address })
    // Entries reach the agent asynchronously (it syncs every second).
    await waitFor('the agent to issue an X.509-SVID to this process', () =>
      fetchX509Context({ address: agent.address, signal: AbortSignal.timeout(5_000) }),
    )
    // The three live sources, created the way a service would (each test inspects them).
    const options = { address: agent.address, timeoutMs: 30_000, backoff: fastBackoff }
    ;[x509, jwt, bundles] = await Promise.all([
      X509Source.create(options),
      JwtSource.create(options),
      BundleSource.create(options),
    ])
  })

  afterAll(async () => {
    await Promise.allSettled([x509?.close(), jwt?.close(), bundles?.close()])
    client?.close()
    await agent?.stop()
    await server?.stop()
    if (dir) removeTempDir(dir)
  })

  it('X509Source receives the SVID and the bundle from the real agent', async () => {
    const svid = x509.getX509Svid()
    expect(svid.id.toString()).toBe(nodeId)
    expect(svid.hint).toBe('internal') // the entry's -hint, through X509SVID.hint
    // The bundle is exactly what `spire-server bundle show` prints.
    const fromServer = X509Bundle.fromPem(TD, await server.bundlePem())
    const bundle = x509.getX509BundleForTrustDomain(svid.id.trustDomain)
    expect(bundle?.equals(fromServer)).toBe(true)
    expect(x509.bundles.trustDomains().map(String)).toEqual([TD])
    // SPIRE's SVID passes svidkit's peer verification (stricter than go-spiffe: KU, root path…).
    const verified = verifyX509Svid(svid.certificates, x509)
    expect(verified.id.toString()).toBe(nodeId)
    // default_x509_svid_ttl, plus SPIRE's 10 s notBefore backdating.
    const leaf = svid.certificates[0]!
    const lifetime = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 1000
    expect(lifetime).toBe(X509_TTL_SECONDS + 10)
    expect(x509.healthy).toBe(true)
  })

  it('a rotation by the agent is observed live', async () => {
    const before = x509.getX509Svid()
    const serial = before.certificates[0]!.serialNumber
    let updates = 0
    const onUpdate = (): void => {
      updates++
    }
    x509.on('update', onUpdate)
    try {
      // The agent renews at about half the 40 s lifetime: well within one TTL.
      await waitFor('a rotated X.509-SVID', () => leafSerial(x509) !== serial, {
        timeoutMs: (X509_TTL_SECONDS + 15) * 1000,
      })
    } finally {
      x509.off('update', onUpdate)
    }
    const after = x509.getX509Svid()
    expect(updates).toBeGreaterThan(0)
    expect(after.id.toString()).toBe(nodeId)
    expect(after.expiresAt.getTime()).toBeGreaterThan(before.expiresAt.getTime())
    expect(verifyX509Svid(after.certificates, x509).id.toString()).toBe(nodeId)
    expect(new X509Certificate(after.certificates[0]!.raw).checkPrivateKey(after.privateKey)).toBe(true)
  })

  it('JwtSource fetches JWT-SVIDs for two audiences; each verifies only for its own', async () => {
    const a = await jwt.fetchJwtSvid({ audience: 'svc-a' })
    const b = await jwt.fetchJwtSvid({ audience: 'svc-b' })
    const both = await jwt.fetchJwtSvid({ audience: 'svc-a', extraAudiences: ['svc-b'] })
    expect(a.id.toString()).toBe(nodeId)
    expect(a.hint).toBe('internal') // JWTSVID.hint, from the entry
    expect(a.audience).toEqual(['svc-a'])
    expect(b.audience).toEqual(['svc-b'])
    expect([...both.audience].sort()).toEqual(['svc-a', 'svc-b'])
    expect(await jwt.fetchJwtSvid({ audience: 'svc-a' })).toBe(a) // cached
    // The signing key is in the streamed JWT bundle (and in `bundle show -format spiffe`).
    const kid = jwtPart(a.token, 0).kid as string
    expect(jwt.getJwtBundleForTrustDomain(a.id.trustDomain)?.findAuthority(kid)).toBeDefined()
    const spiffe = SpiffeBundle.parse(TD, await server.bundleSpiffe())
    expect(spiffe.jwtAuthorities.has(kid)).toBe(true)
    expect(verifyJwtSvid(a.token, jwt, { audience: 'svc-a' }).id.toString()).toBe(nodeId)
    expect(verifyJwtSvid(b.token, jwt, { audience: 'svc-b' }).id.toString()).toBe(nodeId)
    expect(verifyJwtSvid(both.token, jwt, { audience: 'svc-b' }).id.toString()).toBe(nodeId)
    expect(svidkitVerdict(a.token, jwt, 'svc-b')).toBe('ERR_JWT_SVID_AUDIENCE_MISMATCH')
    expect(svidkitVerdict(b.token, jwt, 'svc-a')).toBe('ERR_JWT_SVID_AUDIENCE_MISMATCH')
  })

  it("verifyJwtSvid, the agent's ValidateJWTSVID and go-spiffe agree on valid and invalid tokens", async () => {
    const spiffeJson = await server.bundleSpiffe()
    const svid = await jwt.fetchJwtSvid({ audience: 'svc-a' })
    const past = Math.floor(Date.now() / 1000) - 3600
    // A server-minted token that expired a moment ago: inside every implementation's 60 s leeway.
    const justExpired = await server.mintJwtSvid(nodeId, ['svc-a'], '1s')
    await waitFor(
      'the 1 s token to expire',
      () => Date.now() > (jwtPart(justExpired, 1).exp as number) * 1000 + 500,
    )
    const cases: { name: string; token: string; audience: string; valid: boolean }[] = [
      { name: 'valid', token: svid.token, audience: 'svc-a', valid: true },
      { name: 'expired within the 60 s leeway', token: justExpired, audience: 'svc-a', valid: true },
      { name: 'tampered signature', token: tamperSignature(svid.token), audience: 'svc-a', valid: false },
      {
        name: 'tampered subject',
        token: withClaims(svid.token, { sub: otherId }),
        audience: 'svc-a',
        valid: false,
      },
      {
        name: 'expired-looking (exp rewritten)',
        token: withClaims(svid.token, { exp: past }),
        audience: 'svc-a',
        valid: false,
      },
      { name: 'wrong audience', token: svid.token, audience: 'svc-b', valid: false },
    ]
    const table: Record<string, unknown>[] = []
    for (const c of cases) {
      const local = svidkitVerdict(c.token, jwt, c.audience)
      const agentSays = await agentVerdict(client, c.token, c.audience)
      const goSays = await goVerdict(dir, TD, spiffeJson, c.token, c.audience)
      table.push({ case: c.name, svidkit: local, agent: agentSays, goSpiffe: goSays })
      expect({
        case: c.name,
        svidkit: accepted(local),
        agent: accepted(agentSays),
        go: accepted(goSays),
      }).toEqual({
        case: c.name,
        svidkit: c.valid,
        agent: c.valid,
        go: c.valid,
      })
      if (!c.valid) expect(agentSays).toBe('ERR_WORKLOAD_API_JWT_SVID_INVALID')
    }
    console.table(table)
    // What the agent returns for a valid token: its SPIFFE ID and claims (aud always as a list).
    const validated = await client.validateJwtSvid(svid.token, 'svc-a')
    expect(validated.id.toString()).toBe(nodeId)
    expect(validated.claims.sub).toBe(nodeId)
    expect(validated.claims.aud).toEqual(['svc-a'])
    expect(validated.claims.exp).toBe(Math.floor(svid.expiresAt.getTime() / 1000))
  })

  it('BundleSource streams the X.509 and JWT bundles', async () => {
    const td = x509.getX509Svid().id.trustDomain
    expect(bundles.trustDomains().map(String)).toEqual([TD])
    expect(bundles.getX509BundleForTrustDomain(td)?.equals(x509.getX509BundleForTrustDomain(td)!)).toBe(true)
    expect(bundles.getJwtBundleForTrustDomain(td)?.equals(jwt.getJwtBundleForTrustDomain(td)!)).toBe(true)
    const spiffe = SpiffeBundle.parse(TD, await server.bundleSpiffe())
    expect(bundles.getX509BundleForTrustDomain(td)?.equals(spiffe.x509Bundle())).toBe(true)
    expect(bundles.getJwtBundleForTrustDomain(td)?.equals(spiffe.jwtBundle())).toBe(true)
    expect(bundles.healthy).toBe(true)
  })

  it("go-spiffe's Workload API client reports what svidkit's client reports", async () => {
    const go = await runPeer<{
      x509Svids: string[]
      x509Hints: string[]
      x509BundleTrustDomains: string[]
      x509BundlesTrustDomains: string[]
      jwtSubject: string
      jwtAudience: string[]
      jwtBundleTrustDomains: string[]
      validatedSubject: string
      localValidateError?: string
      wrongAudienceCode: string
      tamperedCode: string
    }>(['wapi', '-socket', agent.address, '-audience', 'svc-go'])
    expect(go.json.ok, go.stderr).toBe(true)
    const ctx = await client.fetchX509Context()
    const x509Bundles = await client.fetchX509Bundles()
    const jwtBundles = await client.fetchJwtBundles()
    const token = await client.fetchJwtSvid({ audience: 'svc-go' })
    expect(go.json.x509Svids).toEqual(ctx.svids.map((s) => s.id.toString()))
    expect(go.json.x509Hints).toEqual(ctx.svids.map((s) => s.hint))
    expect(go.json.x509Hints).toEqual(['internal'])
    expect(go.json.x509BundleTrustDomains).toEqual(ctx.bundles.trustDomains().map(String))
    expect(go.json.x509BundlesTrustDomains).toEqual(x509Bundles.trustDomains().map(String))
    expect(go.json.jwtBundleTrustDomains).toEqual(jwtBundles.trustDomains().map(String))
    expect(go.json.jwtSubject).toBe(token.id.toString())
    expect(go.json.jwtAudience).toEqual([...token.audience])
    expect(go.json.validatedSubject).toBe(nodeId)
    expect(go.json.localValidateError).toBeUndefined()
    // Both clients see the agent's InvalidArgument for a refused token.
    expect(go.json.wrongAudienceCode).toBe('InvalidArgument')
    expect(go.json.tamperedCode).toBe('InvalidArgument')
    const refused = await client.validateJwtSvid(token.token, 'another-audience').catch((e: unknown) => e)
    expect(refused).toMatchObject({ code: 'ERR_WORKLOAD_API_JWT_SVID_INVALID', details: { grpcCode: 3 } })
  })

  it('the dev agent answers every RPC with the same status codes as the SPIRE agent', async () => {
    const dev = await DevAgent.start({
      trustDomain: TD,
      sockets: [
        { name: 'known', socketPath: `${dir}/dev-known.sock`, identities: [{ spiffeId: '/workload/node' }] },
        { name: 'unknown', socketPath: `${dir}/dev-unknown.sock`, identities: [] },
      ],
    })
    try {
      const codes = (r: { json: Record<string, unknown> }, key: 'withHeader' | 'withoutHeader') =>
        Object.fromEntries(
          Object.entries(r.json[key] as Record<string, { code: string }>).map(([rpc, v]) => [rpc, v.code]),
        )
      const spireKnown = await runPeer(['probe', '-socket', agent.address])
      const devKnown = await runPeer(['probe', '-socket', `unix://${dir}/dev-known.sock`])
      expect(codes(devKnown, 'withHeader')).toEqual(codes(spireKnown, 'withHeader'))
      expect(codes(devKnown, 'withoutHeader')).toEqual(codes(spireKnown, 'withoutHeader'))
      expect(codes(spireKnown, 'withHeader')).toMatchObject({
        FetchX509SVID: 'OK',
        FetchJWTSVID: 'OK',
        FetchJWTSVIDNoAudience: 'InvalidArgument',
        ValidateJWTSVID: 'InvalidArgument',
        ValidateJWTSVIDNoAudience: 'InvalidArgument',
        FetchWITSVID: 'Unimplemented',
      })
      expect(new Set(Object.values(codes(spireKnown, 'withoutHeader')))).toEqual(new Set(['InvalidArgument']))
      // The messages too, except token validation failures (svidkit's own wording).
      const messages = (r: { json: Record<string, unknown> }, key: 'withHeader' | 'withoutHeader') =>
        Object.fromEntries(
          Object.entries(r.json[key] as Record<string, { message?: string }>)
            .filter(([rpc]) => key === 'withoutHeader' || rpc !== 'ValidateJWTSVID')
            .map(([rpc, v]) => [rpc, v.message]),
        )
      expect(messages(devKnown, 'withoutHeader')).toEqual(messages(spireKnown, 'withoutHeader'))
      expect(messages(devKnown, 'withHeader')).toEqual(messages(spireKnown, 'withHeader'))
      if (strangerUid !== undefined) {
        // A workload the SPIRE server has no entry for, and a dev agent socket without identities.
        const spireStranger = await runPeer(['probe', '-socket', agent.address], { uid: strangerUid })
        const devUnknown = await runPeer(['probe', '-socket', `unix://${dir}/dev-unknown.sock`])
        expect(codes(devUnknown, 'withHeader')).toEqual(codes(spireStranger, 'withHeader'))
        expect(messages(devUnknown, 'withHeader')).toEqual(messages(spireStranger, 'withHeader'))
        expect(codes(spireStranger, 'withHeader')).toMatchObject({
          FetchX509SVID: 'PermissionDenied',
          FetchX509Bundles: 'PermissionDenied',
          FetchJWTBundles: 'PermissionDenied',
          FetchJWTSVID: 'PermissionDenied',
        })
      }
    } finally {
      await dev.close()
    }
  })

  it.skipIf(peerUid === undefined)(
    'mTLS: svidkit client → go-spiffe server (spiffetls, AuthorizeID), and refusals',
    async () => {
      const peerOpts = { uid: peerUid }
      await waitFor('the peer uid to get its SVID', async () => {
        const r = await runPeer(['wapi', '-socket', agent.address], peerOpts)
        return r.json.ok === true
      })
      const go = await startPeer(['serve-mtls', '-socket', agent.address, '-authorize-id', nodeId], peerOpts)
      try {
        const url = `https://${go.ready}/hello`
        const ok = await svidkitGet(x509, url, authorizeId(peerId))
        expect(ok.status, JSON.stringify(ok.body)).toBe(200)
        expect(ok.serverId).toBe(peerId)
        expect(ok.body).toEqual({ peer: nodeId, path: '/hello' })
        // svidkit refuses a server whose ID it did not ask for, before sending anything.
        const wrong = await svidkitGet(x509, url, authorizeId(otherId)).catch((e: unknown) => e)
        expect(errorCode(wrong)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
      } finally {
        await go.stop()
      }
      // go-spiffe refuses a client whose ID it did not authorize: the handshake fails for svidkit.
      const strict = await startPeer(
        ['serve-mtls', '-socket', agent.address, '-authorize-id', otherId],
        peerOpts,
      )
      try {
        const refused = await svidkitGet(x509, `https://${strict.ready}/`, authorizeId(peerId)).catch(
          (e: unknown) => e,
        )
        expect(refused).toBeInstanceOf(Error)
      } finally {
        await strict.stop()
      }
    },
  )

  it.skipIf(peerUid === undefined)(
    'mTLS: go-spiffe client → svidkit server (node:https), and refusals',
    async () => {
      const peerOpts = { uid: peerUid }
      const srv = await startSvidkitServer(x509, authorizeId(peerId))
      try {
        const ok = await runPeer(
          ['call-mtls', '-socket', agent.address, '-url', `${srv.url}/from-go`, '-server-id', nodeId],
          peerOpts,
        )
        expect(ok.json, ok.stderr).toMatchObject({ ok: true, status: 200 })
        expect(JSON.parse(ok.json.body as string)).toEqual({ peer: peerId, path: '/from-go' })
        expect(ok.json.tlsVersion).toBe('TLS 1.3')
        // go-spiffe refuses a server whose ID it did not ask for.
        const wrong = await runPeer(
          ['call-mtls', '-socket', agent.address, '-url', srv.url, '-server-id', otherId],
          peerOpts,
        )
        expect(wrong.json.ok).toBe(false)
        expect(wrong.json.error).toMatch(/unexpected ID/)
      } finally {
        await srv.close()
      }
      // svidkit refuses a client it did not authorize, at the handshake.
      const strict = await startSvidkitServer(x509, authorizeId(otherId))
      try {
        const refused = await runPeer(
          ['call-mtls', '-socket', agent.address, '-url', strict.url, '-server-id', nodeId],
          peerOpts,
        )
        expect(refused.json.ok).toBe(false)
        await waitFor('the refusal to be reported', () => strict.refused.length > 0)
        expect(errorCode(strict.refused[0])).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
      } finally {
        await strict.close()
      }
    },
  )

  it.skipIf(peerUid === undefined)(
    "gRPC: the svidkit gRPC server serves SPIRE's SVID to a go-spiffe client, across a rotation",
    async () => {
      const peerOpts = { uid: peerUid }
      const srv = await startSvidkitGrpcServer(x509, {
        authorize: authorizeId(peerId),
        methods: { '/grpc.health.v1.Health/Check': { callers: [peerId] } },
      })
      const check = () =>
        runPeer<{ ok: boolean; status?: string; serverId?: string; serverSerial?: string }>(
          ['call-grpc', '-socket', agent.address, '-target', srv.target, '-server-id', nodeId],
          peerOpts,
        )
      try {
        const first = await check()
        expect(first.json, first.stderr).toMatchObject({ ok: true, status: 'SERVING', serverId: nodeId })
        const before = leafSerial(x509)
        expect(first.json.serverSerial).toBe(serialHex(before))
        // The agent rotates the SVID (30 s TTL): the listener serves the new one, without a restart.
        await waitFor('the agent to rotate the SVID', () => leafSerial(x509) !== before, {
          timeoutMs: 40_000,
        })
        const second = await check()
        expect(second.json, second.stderr).toMatchObject({ ok: true, status: 'SERVING', serverId: nodeId })
        expect(second.json.serverSerial).toBe(serialHex(leafSerial(x509)))
        expect(second.json.serverSerial).not.toBe(first.json.serverSerial)
      } finally {
        await srv.close()
      }
    },
  )

  it('deleting the entry: PermissionDenied redacts everything; re-creating it restores the sources', async () => {
    // go-spiffe's X509Source, watching alongside svidkit's sources.
    const goSource = await startPeer([
      'source-denial',
      '-socket',
      agent.address,
      '-hold',
      '3s',
      '-timeout',
      '90s',
    ])
    expect(goSource.ready).toBe(nodeId)
    await server.deleteEntry(nodeEntry)
    await waitFor('X509Source to redact its SVID', () => {
      try {
        x509.getX509Svid()
        return false
      } catch (err) {
        return (err as { code?: string }).code === 'ERR_SOURCE_NO_SVID'
      }
    })
    expect(x509.lastError?.details?.grpcCode).toBe(7) // PERMISSION_DENIED
    expect(x509.healthy).toBe(false)
    expect(x509.bundles.trustDomains()).toEqual([])
    await waitFor(
      'JwtSource and BundleSource to drop their bundles',
      () => [...jwt.bundles.trustDomains(), ...bundles.trustDomains()].length === 0,
    )
    const denied = await jwt.fetchJwtSvid({ audience: 'after-delete' }).catch((e: unknown) => e)
    expect(denied).toMatchObject({ code: 'ERR_WORKLOAD_API_PERMISSION_DENIED' })
    // The reference: go-spiffe's X509Source keeps serving the redacted SVID (see README, "Deviations").
    const go = await goSource.done
    expect(go.json).toMatchObject({
      ok: true,
      servedAfterDenied: true,
      servedId: nodeId,
      bundleAfterDenied: true,
    })

    nodeEntry = await server.createEntry({
      parentId: agent.spiffeId,
      spiffeId: nodeId,
      selectors: [`unix:uid:${myUid}`],
      hint: 'internal',
    })
    await waitFor('X509Source to get an SVID again', () => x509.getX509Svid().id.toString() === nodeId, {
      timeoutMs: 45_000,
    })
    await waitFor('every source to be healthy again', () => x509.healthy && jwt.healthy && bundles.healthy, {
      timeoutMs: 30_000,
    })
    const again = await jwt.fetchJwtSvid({ audience: 'after-delete' })
    expect(verifyJwtSvid(again.token, jwt, { audience: 'after-delete' }).id.toString()).toBe(nodeId)
  })

  it('killing and restarting the agent mid-stream: the sources keep the last state, then recover', async () => {
    const serial = leafSerial(x509)
    await agent.kill('SIGKILL')
    await waitFor(
      'the sources to notice the agent is gone',
      () => !x509.healthy && !jwt.healthy && !bundles.healthy,
    )
    expect(x509.lastError?.code).toBe('ERR_WORKLOAD_API_UNAVAILABLE')
    // Still serving the last good SVID and bundles (Workload API §4.2: the stream will come back).
    expect(leafSerial(x509)).toBe(serial)
    expect(x509.bundles.trustDomains().map(String)).toEqual([TD])
    expect(jwt.bundles.trustDomains().map(String)).toEqual([TD])
    await sleep(1_000)
    await agent.restart()
    await waitFor('every source to reconnect', () => x509.healthy && jwt.healthy && bundles.healthy, {
      timeoutMs: 30_000,
    })
    expect(x509.getX509Svid().id.toString()).toBe(nodeId)
    const after = await jwt.fetchJwtSvid({ audience: 'after-restart' })
    expect(verifyJwtSvid(after.token, jwt, { audience: 'after-restart' }).id.toString()).toBe(nodeId)
    expect(await agentVerdict(client, after.token, 'after-restart')).toBe('ok')
  })

  it('a token past the 60 s leeway is refused by all three', async () => {
    const until = (expiring.exp + 62) * 1000
    if (Date.now() < until) await sleep(until - Date.now())
    const spiffeJson = await server.bundleSpiffe()
    expect(svidkitVerdict(expiring.token, jwt, 'interop-expiry')).toBe('ERR_JWT_SVID_EXPIRED')
    expect(await agentVerdict(client, expiring.token, 'interop-expiry')).toBe(
      'ERR_WORKLOAD_API_JWT_SVID_INVALID',
    )
    expect(await goVerdict(dir, TD, spiffeJson, expiring.token, 'interop-expiry')).toMatch(/expired/)
  })
})
