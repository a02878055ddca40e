// Point 4, bounded memory: 10^5 distinct callers through one Fastify service — a third with their own
// X.509-SVID (a fresh mTLS connection each), a third with their own JWT-SVID, a third named by their
// own XFCC header from the trusted proxy. Heap and RSS are read after a full GC every 10^4 callers:
// once the caches are full (a few thousand callers) the heap must stop growing, and stay under the
// bound stated in test/resilience/README.md.
import { Agent, request } from 'node:https'
import { BundleSet } from '@svidkit/core/bundle'
import { formatXfcc } from '@svidkit/core/xfcc'
import { expect, test } from 'vitest'
import { fastifyAdapter } from '../harness/adapters/fastify.js'
import { capture } from '../harness/capture.js'
import { ServedCounter } from '../harness/load.js'
import { heapAfterGc } from '../harness/memory.js'
import { createStaticFixtures, HOST, SELF, TRUSTED_PROXY } from '../harness/static-fixtures.js'

const CALLERS = Number(process.env.MEMORY_CALLERS ?? 100_000)
const CHECKPOINT = Number(process.env.MEMORY_CHECKPOINT ?? 10_000)
/** The stated bounds, after a full GC, for the whole test process (service and client side). */
const HEAP_BOUND_MB = 128
const RSS_BOUND_MB = 512
/** Growth allowed between the first full checkpoint and the last: noise, not a cache. */
const PLATEAU_MB = 16

const mb = (b: number) => +(b / 1024 / 1024).toFixed(1)

test(
  `${CALLERS} distinct callers through one Fastify service: bounded heap and RSS`,
  async () => {
    const fx = await createStaticFixtures()
    const served = new ServedCounter()
    const service = await fastifyAdapter.start({
      host: HOST,
      tls: fx.tls,
      verifier: fx.verifier({ bundles: new BundleSet([fx.ca.spiffeBundle()]), audit: false }),
      respond: served.respond,
    })
    const keepAlive = new Agent({
      keepAlive: true,
      maxSockets: 8,
      ca: [...fx.trust],
      checkServerIdentity: () => undefined,
    })
    const proxy = new Agent({
      keepAlive: true,
      maxSockets: 8,
      ca: [...fx.trust],
      checkServerIdentity: () => undefined,
      localAddress: TRUSTED_PROXY,
      cert: fx.proxyCertificate.cert,
      key: fx.proxyCertificate.key,
    })
    const url = new URL('/whoami', service.url)
    const get = (options: {
      agent: Agent | false
      headers?: Record<string, string>
      cert?: string
      key?: string
    }) =>
      new Promise<number>((resolve, reject) => {
        const r = request(
          url,
          { ca: [...fx.trust], checkServerIdentity: () => undefined, timeout: 10_000, ...options },
          (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
          },
        )
        r.on('timeout', () => r.destroy(new Error('timeout')))
        r.on('error', reject)
        r.end()
      })
    // Caller i: its own SVID (i % 3 === 0), its own token (1) or its own XFCC header (2).
    const callAs = async (i: number): Promise<number> => {
      const path = `/caller/${i}`
      if (i % 3 === 0) {
        const svid = await fx.ca.issueX509Svid({ id: path })
        return get({ agent: false, cert: svid.certificatesPem, key: svid.privateKeyPem })
      }
      if (i % 3 === 1) {
        // Minted directly: the capture's JWS rule covers these tokens without remembering each one.
        const token = await fx.ca.mintJwtSvid({ subject: path, audience: SELF })
        return get({ agent: keepAlive, headers: { authorization: `Bearer ${token}` } })
      }
      return get({
        agent: proxy,
        headers: {
          'x-forwarded-client-cert': formatXfcc([{ by: [SELF], uri: [`spiffe://example.org${path}`] }]),
        },
      })
    }

    const samples: { callers: number; heapMB: number; rssMB: number; externalMB: number }[] = []
    const sample = async (callers: number) => {
      const heap = await heapAfterGc()
      const m = process.memoryUsage()
      samples.push({ callers, heapMB: mb(heap), rssMB: mb(m.rss), externalMB: mb(m.external) })
    }
    const started = Date.now()
    let failures = 0
    try {
      await sample(0)
      for (let next = 0; next < CALLERS; ) {
        const end = Math.min(CALLERS, next + CHECKPOINT)
        const workers = Array.from({ length: 8 }, async () => {
          while (next < end) {
            const i = next++
            if ((await callAs(i)) !== 200) failures++
          }
        })
        await Promise.all(workers)
        await sample(end)
      }
    } finally {
      keepAlive.destroy()
      proxy.destroy()
      await service.close()
    }
    const seconds = Math.round((Date.now() - started) / 1000)
    console.log(
      `MEMORY ${JSON.stringify({ callers: CALLERS, seconds, failures, servedByChannel: served.byChannel, samples })}`,
    )
    capture.line('stdout', `memory soak: ${CALLERS} callers in ${seconds} s`)

    expect(failures).toBe(0)
    expect(served.byChannel).toEqual({
      mtls: Math.ceil(CALLERS / 3),
      jwt: Math.ceil((CALLERS - 1) / 3),
      xfcc: Math.ceil((CALLERS - 2) / 3),
    })
    const full = samples.find((s) => s.callers >= Math.min(CHECKPOINT, CALLERS))!
    const last = samples.at(-1)!
    expect(last.heapMB - full.heapMB, JSON.stringify(samples)).toBeLessThan(PLATEAU_MB)
    expect(Math.max(...samples.map((s) => s.heapMB))).toBeLessThan(HEAP_BOUND_MB)
    expect(Math.max(...samples.map((s) => s.rssMB))).toBeLessThan(RSS_BOUND_MB)
  },
  40 * 60_000,
)
