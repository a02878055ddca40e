// Two SPIRE v1.15.3 trust domains federated through their https_spiffe bundle endpoints, plus
// svidkit's own bundle endpoint (the dev agent's) as a third federation partner of SPIRE:
// federated bundles in svidkit's sources, svidkit's bundle endpoint client against SPIRE's endpoint,
// SPIRE's client against svidkit's endpoint, cross-domain mTLS with go-spiffe authorized by ID in both
// directions, and cross-domain JWT-SVID validation (including SPIRE's foreign-claim filtering).
import { SpiffeBundle } from '@svidkit/core/bundle'
import { fetchBundle } from '@svidkit/core/federation'
import { authorizeId, authorizeMemberOf } from '@svidkit/core/policy'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { BundleSource, JwtSource, WorkloadApiClient, X509Source } from '@svidkit/core/workload-api'
import { DevAgent } from '@svidkit/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWith, errorCode, freePort, myUid, waitFor } from './harness/env.js'
import { runPeer, startPeer } from './harness/go-peer.js'
import { accepted, agentVerdict, svidkitVerdict, tamperSignature } from './harness/jwt.js'
import { removeTempDir, tempDir } from './harness/processes.js'
import { SpireAgent, SpireServer } from './harness/spire.js'
import { startSvidkitServer, svidkitGet } from './harness/svidkit-https.js'

const TDA = 'a.svidkit.test'
const TDB = 'b.svidkit.test'
const TDDEV = 'dev.svidkit.test'
const nodeId = `spiffe://${TDA}/workload/node` // this process, on agent A
const serviceId = `spiffe://${TDB}/workload/service` // this process and the go peer, on agent B
const fastBackoff = { initialMs: 200, maxMs: 2_000 }
const tds = (list: readonly TrustDomain[]): string[] => list.map(String).sort()

describeWith(['spireServer', 'spireAgent', 'goPeer'])(
  'SPIRE federation (two trust domains) with svidkit and go-spiffe',
  () => {
    let dir: string
    let dev: DevAgent
    let serverA: SpireServer
    let serverB: SpireServer
    let agentA: SpireAgent
    let agentB: SpireAgent
    let x509A: X509Source
    let jwtA: JwtSource
    let bundlesA: BundleSource
    let x509B: X509Source
    let jwtB: JwtSource
    let clientB: WorkloadApiClient

    beforeAll(async () => {
      dir = tempDir('federation-test')
      // svidkit's dev agent serves its trust domain's bundle on an https_spiffe bundle endpoint.
      dev = await DevAgent.start({
        trustDomain: TDDEV,
        socketPath: `${dir}/dev.sock`,
        identities: [{ spiffeId: '/workload/dev' }],
        bundleEndpoint: { refreshHintSeconds: 60 },
      })
      const [portA, portB] = [await freePort(), await freePort()]
      const relation = (td: string, port: number) => ({
        trustDomain: td,
        url: `https://127.0.0.1:${port}`,
        endpointSpiffeId: `spiffe://${td}/spire/server`,
      })
      ;[serverA, serverB] = await Promise.all([
        SpireServer.start({
          name: 'fed-a',
          trustDomain: TDA,
          bundleEndpointPort: portA,
          federatesWith: [
            relation(TDB, portB),
            {
              trustDomain: TDDEV,
              url: dev.bundleEndpointUrl!,
              endpointSpiffeId: dev.bundleEndpointId!.toString(),
            },
          ],
        }),
        SpireServer.start({
          name: 'fed-b',
          trustDomain: TDB,
          bundleEndpointPort: portB,
          federatesWith: [relation(TDA, portA)],
        }),
      ])
      // https_spiffe relationships are bootstrapped with the partner's bundle (Federation §5.2.2.3).
      await serverA.setFederatedBundle(TDB, await serverB.bundleSpiffe())
      await serverB.setFederatedBundle(TDA, await serverA.bundleSpiffe())
      await serverA.setFederatedBundle(TDDEV, dev.ca.spiffeBundle().toJson())
      ;[agentA, agentB] = await Promise.all([
        SpireAgent.start({ name: 'fed-a', server: serverA }),
        SpireAgent.start({ name: 'fed-b', server: serverB }),
      ])
      await serverA.createEntry({
        parentId: agentA.spiffeId,
        spiffeId: nodeId,
        selectors: [`unix:uid:${myUid}`],
        federatesWith: [`spiffe://${TDB}`, `spiffe://${TDDEV}`],
      })
      await serverB.createEntry({
        parentId: agentB.spiffeId,
        spiffeId: serviceId,
        selectors: [`unix:uid:${myUid}`],
        federatesWith: [`spiffe://${TDA}`],
      })
      const options = { timeoutMs: 60_000, backoff: fastBackoff }
      ;[x509A, jwtA, bundlesA, x509B, jwtB] = await Promise.all([
        X509Source.create({ ...options, address: agentA.address }),
        JwtSource.create({ ...options, address: agentA.address }),
        BundleSource.create({ ...options, address: agentA.address }),
        X509Source.create({ ...options, address: agentB.address }),
        JwtSource.create({ ...options, address: agentB.address }),
      ])
      clientB = new WorkloadApiClient({ address: agentB.address })
      await waitFor(
        'the federated bundles to reach both workloads',
        () => x509A.bundles.trustDomains().length === 3 && x509B.bundles.trustDomains().length === 2,
      )
    })

    afterAll(async () => {
      await Promise.allSettled([
        x509A?.close(),
        jwtA?.close(),
        bundlesA?.close(),
        x509B?.close(),
        jwtB?.close(),
      ])
      clientB?.close()
      await Promise.allSettled([agentA?.stop(), agentB?.stop()])
      await Promise.allSettled([serverA?.stop(), serverB?.stop()])
      await dev?.close()
      if (dir) removeTempDir(dir)
    })

    it("svidkit's sources hold each federated trust domain's own bundle, as go-spiffe's client does", async () => {
      expect(x509A.getX509Svid().id.toString()).toBe(nodeId)
      expect(x509B.getX509Svid().id.toString()).toBe(serviceId)
      expect(tds(x509A.bundles.trustDomains())).toEqual([TDA, TDB, TDDEV])
      expect(tds(x509B.bundles.trustDomains())).toEqual([TDA, TDB])
      const b = SpiffeBundle.parse(TDB, await serverB.bundleSpiffe())
      const a = SpiffeBundle.parse(TDA, await serverA.bundleSpiffe())
      expect(x509A.getX509BundleForTrustDomain(b.trustDomain)?.equals(b.x509Bundle())).toBe(true)
      expect(x509B.getX509BundleForTrustDomain(a.trustDomain)?.equals(a.x509Bundle())).toBe(true)
      expect(x509A.getX509BundleForTrustDomain(TrustDomain.parse(TDDEV))?.equals(dev.ca.x509Bundle())).toBe(
        true,
      )
      expect(jwtA.getJwtBundleForTrustDomain(b.trustDomain)?.equals(b.jwtBundle())).toBe(true)
      expect(jwtB.getJwtBundleForTrustDomain(a.trustDomain)?.equals(a.jwtBundle())).toBe(true)
      await waitFor('BundleSource to hold every federated bundle', () => bundlesA.trustDomains().length === 3)
      expect(tds(bundlesA.trustDomains())).toEqual([TDA, TDB, TDDEV])
      expect(bundlesA.getX509BundleForTrustDomain(b.trustDomain)?.equals(b.x509Bundle())).toBe(true)
      const go = await runPeer(['wapi', '-socket', agentA.address])
      expect(go.json, go.stderr).toMatchObject({
        ok: true,
        x509Svids: [nodeId],
        x509BundleTrustDomains: [TDA, TDB, TDDEV],
        x509BundlesTrustDomains: [TDA, TDB, TDDEV],
        jwtBundleTrustDomains: [TDA, TDB, TDDEV],
      })
    })

    it("svidkit's fetchBundle reads SPIRE's https_spiffe bundle endpoint, and refuses a wrong endpoint ID", async () => {
      const fromServer = SpiffeBundle.parse(TDB, await serverB.bundleSpiffe())
      const fetched = await fetchBundle({
        trustDomain: TDB,
        url: serverB.bundleEndpointUrl!,
        profile: 'https_spiffe',
        endpointSpiffeId: serverB.serverId,
        bundleSource: x509A, // the bundle of b, as SPIRE federated it to this workload
        timeoutMs: 10_000,
      })
      expect(fetched.x509Bundle().equals(fromServer.x509Bundle())).toBe(true)
      expect(fetched.jwtBundle().equals(fromServer.jwtBundle())).toBe(true)
      expect(fetched.refreshHintSeconds).toBe(60)
      expect(fetched.sequenceNumber).toBeDefined()
      const wrongId = await fetchBundle({
        trustDomain: TDB,
        url: serverB.bundleEndpointUrl!,
        profile: 'https_spiffe',
        endpointSpiffeId: `spiffe://${TDB}/not-the-server`,
        bundleSource: x509A,
      }).catch((e: unknown) => e)
      expect(wrongId).toMatchObject({ code: 'ERR_FEDERATION_FETCH_FAILED' })
      const wrongBundle = await fetchBundle({
        trustDomain: TDB,
        url: serverB.bundleEndpointUrl!,
        profile: 'https_spiffe',
        endpointSpiffeId: serverB.serverId,
        bundleSource: dev.ca.bundleSet(), // no bundle for b
      }).catch((e: unknown) => e)
      expect(wrongBundle).toMatchObject({ code: 'ERR_FEDERATION_FETCH_FAILED' })
    })

    it("SPIRE's federation client reads svidkit's bundle endpoint (and picks up a rotated key)", async () => {
      // A refresh of a static relationship fetches from the endpoint right away.
      await serverA.run(['federation', 'refresh', '-id', `spiffe://${TDB}`])
      await serverA.run(['federation', 'refresh', '-id', `spiffe://${TDDEV}`])
      const kid = await dev.rotateJwtKey()
      await serverA.run(['federation', 'refresh', '-id', `spiffe://${TDDEV}`])
      const stored = SpiffeBundle.parse(
        TDDEV,
        await serverA.run(['bundle', 'list', '-id', `spiffe://${TDDEV}`, '-format', 'spiffe']),
      )
      expect(stored.jwtAuthorities.has(kid)).toBe(true)
      expect(stored.x509Bundle().equals(dev.ca.x509Bundle())).toBe(true)
      // …and on to the workload, through SPIRE's agent, into svidkit's JwtSource.
      const devTd = TrustDomain.parse(TDDEV)
      await waitFor('the rotated dev key to reach the workload', () =>
        jwtA.getJwtBundleForTrustDomain(devTd)?.findAuthority(kid),
      )
      // BundleSource streamed the change too (FetchJWTBundles), without a reconnect.
      await waitFor('BundleSource to stream the rotated key', () =>
        bundlesA.getJwtBundleForTrustDomain(devTd)?.findAuthority(kid),
      )
      expect(bundlesA.healthy).toBe(true)
      const token = await dev.ca.mintJwtSvid({ subject: '/workload/dev', audience: 'svc-a' })
      expect(svidkitVerdict(token, jwtA, 'svc-a')).toBe('ok')
    })

    it('cross-domain mTLS: svidkit client (a) → go-spiffe server (b), authorized by ID both ways', async () => {
      const go = await startPeer(['serve-mtls', '-socket', agentB.address, '-authorize-id', nodeId])
      try {
        const url = `https://${go.ready}/cross`
        const ok = await svidkitGet(x509A, url, authorizeId(serviceId))
        expect(ok.status, JSON.stringify(ok.body)).toBe(200)
        expect(ok.serverId).toBe(serviceId)
        expect(ok.body).toEqual({ peer: nodeId, path: '/cross' })
        const refused = await svidkitGet(x509A, url, authorizeMemberOf(TDA)).catch((e: unknown) => e)
        expect(errorCode(refused)).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
      } finally {
        await go.stop()
      }
      const strict = await startPeer(['serve-mtls', '-socket', agentB.address, '-authorize-member-of', TDB])
      try {
        const refused = await svidkitGet(x509A, `https://${strict.ready}/`, authorizeId(serviceId)).catch(
          (e: unknown) => e,
        )
        expect(refused).toBeInstanceOf(Error)
      } finally {
        await strict.stop()
      }
    })

    it('cross-domain mTLS: go-spiffe client (b) → svidkit server (a), authorized by ID both ways', async () => {
      const srv = await startSvidkitServer(x509A, authorizeId(serviceId))
      try {
        const ok = await runPeer([
          'call-mtls',
          '-socket',
          agentB.address,
          '-url',
          `${srv.url}/cross`,
          '-server-id',
          nodeId,
        ])
        expect(ok.json, ok.stderr).toMatchObject({ ok: true, status: 200 })
        expect(JSON.parse(ok.json.body as string)).toEqual({ peer: serviceId, path: '/cross' })
        const wrong = await runPeer([
          'call-mtls',
          '-socket',
          agentB.address,
          '-url',
          srv.url,
          '-server-member-of',
          TDB,
        ])
        expect(wrong.json.ok).toBe(false)
      } finally {
        await srv.close()
      }
      const strict = await startSvidkitServer(x509A, authorizeMemberOf(TDA))
      try {
        const refused = await runPeer([
          'call-mtls',
          '-socket',
          agentB.address,
          '-url',
          strict.url,
          '-server-id',
          nodeId,
        ])
        expect(refused.json.ok).toBe(false)
        await waitFor('the refusal to be reported', () => strict.refused.length > 0)
        expect(errorCode(strict.refused[0])).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
      } finally {
        await strict.close()
      }
    })

    it("a JWT-SVID of a is accepted in b by svidkit and by b's agent, which filters foreign claims as the dev agent does", async () => {
      const token = (await jwtA.fetchJwtSvid({ audience: 'svc-b' })).token
      const cases = [
        { name: 'valid', token, audience: 'svc-b', valid: true },
        { name: 'wrong audience', token, audience: 'svc-c', valid: false },
        { name: 'tampered', token: tamperSignature(token), audience: 'svc-b', valid: false },
      ]
      for (const c of cases) {
        const local = svidkitVerdict(c.token, jwtB, c.audience)
        const agent = await agentVerdict(clientB, c.token, c.audience)
        expect({ case: c.name, svidkit: accepted(local), agent: accepted(agent) }).toEqual({
          case: c.name,
          svidkit: c.valid,
          agent: c.valid,
        })
      }
      // SPIRE returns only sub, aud and exp of a foreign token (no allowed_foreign_jwt_claims).
      const spire = await clientB.validateJwtSvid(token, 'svc-b')
      expect(spire.id.toString()).toBe(nodeId)
      expect(Object.keys(spire.claims).sort()).toEqual(['aud', 'exp', 'sub'])
      // The dev agent does the same with a token of a trust domain it federates with.
      await using devB = await DevAgent.start({
        trustDomain: TDB,
        socketPath: `${dir}/dev-b.sock`,
        identities: [{ spiffeId: '/workload/service' }],
      })
      const partner = await devB.addFederatedBundle(TDA)
      const foreign = await partner.mintJwtSvid({
        subject: '/workload/node',
        audience: 'svc-b',
        claims: { extra: 1 },
      })
      const devClient = new WorkloadApiClient({ address: devB.address })
      try {
        const devSays = await devClient.validateJwtSvid(foreign, 'svc-b')
        expect(Object.keys(devSays.claims).sort()).toEqual(Object.keys(spire.claims).sort())
        // SPIRE always returns `aud` as a list, even for a token whose `aud` is a single string.
        expect(spire.claims.aud).toEqual(['svc-b'])
        expect(devSays.claims.aud).toEqual(spire.claims.aud)
      } finally {
        devClient.close()
      }
    })
  },
)
