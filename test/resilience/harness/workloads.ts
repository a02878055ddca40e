// The workloads of the agent-loss and rotation runs, all on one Workload API: a service (SPIFFE ID
// /orders) served by every adapter, with its X509Source (its own certificate, rotated live) and a
// BundleSource (what it verifies callers with); and a client (/web) with its X509Source (mTLS) and
// JwtSource (JWT-SVIDs). `plan` alternates adapters and channels for the load generator, always with
// the client's latest credentials — even expired ones, which the services must then refuse.
import type { CallerVerifierOptions } from '@svidkit/core/caller'
import type { LiveSource } from '@svidkit/core/source'
import { BundleSource, JwtSource, X509Source } from '@svidkit/core/workload-api'
import type { X509Svid } from '@svidkit/core/x509-svid'
import { capture } from './capture.js'
import { type PlannedCall, ServedCounter } from './load.js'
import {
  type ClientCertificate,
  type ResilienceAdapter,
  type RunningService,
  rotatingServerTls,
} from './service.js'
import { sleep } from './wait.js'

export const SERVICE_ID = 'spiffe://example.org/orders'
export const CLIENT_ID = 'spiffe://example.org/web'

export interface WorkloadOptions {
  readonly address: string
  readonly adapters: readonly ResilienceAdapter[]
  readonly backoff: { readonly initialMs: number; readonly maxMs: number }
}

export interface Workloads {
  readonly serviceSvid: X509Source
  readonly serviceBundles: BundleSource
  readonly client: X509Source
  readonly clientJwt: JwtSource
  /** Every source, by name, for recovery measurements. */
  readonly sources: Readonly<Record<string, LiveSource & { readonly healthy: boolean }>>
  /** The update times of every source, by name. */
  readonly updates: Readonly<Record<string, number[]>>
  readonly services: readonly RunningService[]
  readonly served: ServedCounter
  /** The client's current (last received) X.509-SVID and JWT-SVID. */
  clientSvid(): X509Svid
  clientToken(): string
  /** The next call of the load: adapters and channels (mTLS, JWT-SVID) in turn. */
  plan(n: number): PlannedCall
  close(): Promise<void>
}

export function pemOf(svid: X509Svid): ClientCertificate {
  return {
    cert: svid.certificates.map((c) => c.toString()).join(''),
    key: svid.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  }
}

export async function startWorkloads(o: WorkloadOptions): Promise<Workloads> {
  const common = { address: o.address, backoff: { ...o.backoff, jitter: 0.2 }, timeoutMs: 20_000 }
  const sources: Record<string, LiveSource & { readonly healthy: boolean }> = {}
  const services: RunningService[] = []
  const stop = new AbortController()
  let refresher: Promise<void> = Promise.resolve()
  const close = async () => {
    stop.abort()
    await refresher
    await Promise.allSettled(services.map((s) => s.close()))
    await Promise.allSettled(Object.values(sources).map((s) => s.close()))
  }
  try {
    const serviceSvid = await X509Source.create({ ...common, picker: { spiffeId: SERVICE_ID } })
    sources['service X509Source'] = serviceSvid
    const serviceBundles = await BundleSource.create(common)
    sources['service BundleSource'] = serviceBundles
    const client = await X509Source.create({ ...common, picker: { spiffeId: CLIENT_ID } })
    sources['client X509Source'] = client
    const clientJwt = await JwtSource.create(common)
    sources['client JwtSource'] = clientJwt

    const updates: Record<string, number[]> = {}
    for (const [name, s] of Object.entries(sources)) {
      const times: number[] = []
      updates[name] = times
      s.on('update', () => times.push(Date.now()))
      s.on('error', () => {}) // expected while the agent is away
    }

    let svid = client.getX509Svid()
    let trust = client.bundles.getX509BundleForTrustDomain(svid.id.trustDomain)!.toPem()
    client.on('update', () => {
      try {
        svid = client.getX509Svid()
        const bundle = client.bundles.getX509BundleForTrustDomain(svid.id.trustDomain)
        if (bundle) trust = bundle.toPem()
      } catch {
        // redacted or expired: keep the last one
      }
    })
    let cert = pemOf(svid)
    let certOf = svid
    let token = (await clientJwt.fetchJwtSvid({ audience: SERVICE_ID, subject: CLIENT_ID })).token
    capture.secretToken(token)
    refresher = (async () => {
      while (!stop.signal.aborted) {
        await sleep(250)
        try {
          const t = (await clientJwt.fetchJwtSvid({ audience: SERVICE_ID, subject: CLIENT_ID })).token
          if (t !== token) capture.secretToken(t)
          token = t
        } catch {
          // the agent is away: keep the last token
        }
      }
    })()

    const served = new ServedCounter()
    const verifier: CallerVerifierOptions = {
      bundles: serviceBundles,
      self: SERVICE_ID,
      // No clock-skew tolerance (JWT-SVIDs default to 60 s, like SPIRE): an expired SVID must be refused.
      mtls: { clockSkewSeconds: 0 },
      jwt: { audience: SERVICE_ID, clockSkewSeconds: 0 },
      audit: { logger: capture.auditLogger(), telemetry: false },
    }
    for (const adapter of o.adapters) {
      services.push(
        await adapter.start({
          host: '127.0.0.1',
          tls: rotatingServerTls(serviceSvid),
          verifier,
          respond: served.respond,
          log: capture.stream(),
        }),
      )
    }

    return {
      serviceSvid,
      serviceBundles,
      client,
      clientJwt,
      sources,
      updates,
      services,
      served,
      clientSvid: () => svid,
      clientToken: () => token,
      plan(n) {
        const k = n % (o.adapters.length * 2)
        const adapter = o.adapters[k >> 1]!
        const mtls = (k & 1) === 0
        if (mtls && certOf !== svid) {
          cert = pemOf(svid)
          certOf = svid
        }
        return {
          label: `${adapter.name} ${mtls ? 'mTLS' : 'JWT-SVID'}`,
          adapter,
          service: services[k >> 1]!,
          request: {
            operation: 'whoami',
            trust: [trust],
            serverId: SERVICE_ID,
            ...(mtls ? { certificate: cert } : { bearer: token }),
          },
        }
      },
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}
