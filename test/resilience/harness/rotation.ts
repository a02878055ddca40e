// Point 2, rotation under load: the dev agent issues SVIDs with a short TTL (re-issued at half-life)
// while the load generator calls every adapter over a fresh TLS connection per call (each call is a
// handshake with the certificates of the moment), mTLS and JWT-SVID. Halfway, the trust bundle rotates
// as SPIRE rotates its CA: a new CA joins the bundle (a caller with a certificate from it is accepted
// as soon as the bundle reaches the service), every SVID is re-issued by it, then the old CA leaves the
// bundle (a caller with a certificate from it is refused right after). Shared by the fast test and the
// soak (30 s SVIDs for 10 minutes).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DevAgent, TestCA, type TestX509Svid } from '@svidkit/testing'
import { capture } from './capture.js'
import { type LoadStats, runLoad } from './load.js'
import type { CallOutcome, ResilienceAdapter } from './service.js'
import { sleep, until } from './wait.js'
import { CLIENT_ID, SERVICE_ID, startWorkloads, type Workloads } from './workloads.js'

export interface RotationOptions {
  readonly adapters: readonly ResilienceAdapter[]
  readonly durationMs: number
  readonly svidTtlSeconds: number
  readonly concurrency: number
  readonly log?: (line: string) => void
}

export interface BundleRotationReport {
  /** A caller with a certificate from the new CA, before the CA joined the bundle: refused. */
  readonly newCaBefore: string
  /** The same caller right after the new bundle reached the service: accepted (`ok`). */
  readonly newCaAfterArrival: string
  /** ms from the bundle update at the service to that caller's accepted call. */
  readonly acceptedAfterArrivalMs: number
  /** A caller with a certificate from the old CA right after it left the bundle: refused. */
  readonly oldCaAfterRemoval: string
  readonly refusedAfterRemovalMs: number
}

export interface RotationReport {
  readonly durationMs: number
  readonly load: LoadStats
  /** Fresh TLS connections made (one per call) and those whose handshake failed. */
  readonly handshakes: number
  readonly failedHandshakes: number
  /** X.509-SVID rotations seen by the service and by the client. */
  readonly serviceRotations: number
  readonly clientRotations: number
  readonly served: number
  readonly servedExpired: number
  readonly servedByChannel: Record<string, number>
  readonly bundleRotation: BundleRotationReport
}

const describe = (o: CallOutcome): string =>
  o.kind === 'ok'
    ? 'ok'
    : o.kind === 'refused'
      ? `refused ${o.status} ${o.code}`
      : `failed ${o.stage}: ${o.error}`

export async function runRotation(o: RotationOptions): Promise<RotationReport> {
  const log = o.log ?? (() => {})
  const dir = mkdtempSync(join(tmpdir(), 'svidkit-resilience-rotation-'))
  const agent = await DevAgent.start({
    trustDomain: 'example.org',
    socketPath: join(dir, 'agent.sock'),
    identities: [{ spiffeId: '/orders' }, { spiffeId: '/web' }],
    svidTtlSeconds: o.svidTtlSeconds,
    jwtSvidTtlSeconds: o.svidTtlSeconds,
  })
  let w: Workloads | undefined
  try {
    w = await startWorkloads({
      address: agent.address,
      adapters: o.adapters,
      backoff: { initialMs: 100, maxMs: 1000 },
    })
    const workloads = w
    const serials = { service: new Set<string>(), client: new Set<string>() }
    const track = () => {
      try {
        serials.service.add(workloads.serviceSvid.getX509Svid().certificates[0]!.serialNumber)
        serials.client.add(workloads.client.getX509Svid().certificates[0]!.serialNumber)
      } catch {
        // nothing valid to note
      }
    }
    track()
    workloads.serviceSvid.on('update', track)
    workloads.client.on('update', track)

    const stop = new AbortController()
    const load = runLoad({
      concurrency: o.concurrency,
      durationMs: o.durationMs,
      maxCalls: 50_000_000,
      signal: stop.signal,
      next: workloads.plan,
      onOutcome: (_call, outcome) => {
        if (outcome.kind === 'refused') capture.line('response', JSON.stringify(outcome.body))
      },
    })
    const started = Date.now()

    // A probe call outside the load: the first adapter, mTLS with the given certificate.
    const probe = (svid: TestX509Svid) =>
      o.adapters[0]!.call(workloads.services[0]!, {
        operation: 'whoami',
        certificate: { cert: svid.certificatesPem, key: svid.privateKeyPem },
        trust: [
          workloads.client.bundles
            .getX509BundleForTrustDomain(workloads.clientSvid().id.trustDomain)!
            .toPem(),
        ],
        serverId: SERVICE_ID,
      })
    const roots = () =>
      workloads.serviceBundles
        .getX509BundleForTrustDomain(agent.trustDomain)!
        .authorities.map((a) => a.fingerprint256)

    await sleep(o.durationMs * 0.3)
    // 1. A new CA, not yet in the bundle: its caller is refused.
    const oldCa = agent.ca
    const fromOld = await oldCa.issueX509Svid({ id: CLIENT_ID, ttlSeconds: 3600 })
    const newCa = await TestCA.create({ trustDomain: 'example.org' })
    const fromNew = await newCa.issueX509Svid({ id: CLIENT_ID, ttlSeconds: 3600 })
    const newCaBefore = describe(await probe(fromNew))
    // 2. It joins the bundle: accepted as soon as the bundle reaches the service.
    const joined = new Promise<number>((resolve) => {
      const check = () => {
        if (roots().includes(newCa.certificate.fingerprint256)) {
          workloads.serviceBundles.off('update', check)
          resolve(Date.now())
        }
      }
      workloads.serviceBundles.on('update', check)
    })
    await agent.prepareCa(newCa)
    const arrivedAt = await joined
    const accepted = await probe(fromNew)
    const acceptedAfterArrivalMs = Date.now() - arrivedAt
    log(`new CA in the bundle: ${describe(accepted)} ${acceptedAfterArrivalMs} ms after it arrived`)
    // 3. Every SVID re-issued by the new CA; the old CA stays until every workload and token moved.
    await sleep(o.durationMs * 0.1)
    await agent.activateCa()
    const issuedByNew = (s: { certificates: readonly { issuer: string }[] }) =>
      s.certificates[0]!.issuer === newCa.certificate.subject
    const jwtKid = () =>
      JSON.parse(Buffer.from(workloads.clientToken().split('.')[0]!, 'base64url').toString()).kid
    await until(
      () =>
        issuedByNew(workloads.serviceSvid.getX509Svid()) &&
        issuedByNew(workloads.clientSvid()) &&
        jwtKid() === newCa.jwtKeyId,
      o.svidTtlSeconds * 1000 + 10_000,
      'every SVID and the client token to come from the new CA',
    )
    await sleep(o.durationMs * 0.1)
    // 4. The old CA leaves the bundle: its caller is refused right after.
    const left = new Promise<number>((resolve) => {
      const check = () => {
        if (!roots().includes(oldCa.certificate.fingerprint256)) {
          workloads.serviceBundles.off('update', check)
          resolve(Date.now())
        }
      }
      workloads.serviceBundles.on('update', check)
    })
    agent.retireCa()
    const removedAt = await left
    const refused = await probe(fromOld)
    const refusedAfterRemovalMs = Date.now() - removedAt
    log(`old CA out of the bundle: ${describe(refused)} ${refusedAfterRemovalMs} ms after`)

    const stats = await load
    const failedHandshakes = stats.reasons['failed:handshake'] ?? 0
    log(
      `${stats.calls} calls in ${((Date.now() - started) / 1000).toFixed(0)} s: ${JSON.stringify(stats.reasons)}`,
    )
    return {
      durationMs: stats.durationMs,
      load: stats,
      handshakes: stats.calls,
      failedHandshakes,
      serviceRotations: serials.service.size - 1,
      clientRotations: serials.client.size - 1,
      served: workloads.served.served,
      servedExpired: workloads.served.servedExpired,
      servedByChannel: workloads.served.byChannel,
      bundleRotation: {
        newCaBefore,
        newCaAfterArrival: describe(accepted),
        acceptedAfterArrivalMs,
        oldCaAfterRemoval: describe(refused),
        refusedAfterRemovalMs,
      },
    }
  } finally {
    await w?.close()
    await agent.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
