import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ServerWritableStream, status } from '@grpc/grpc-js'
import type { SvidkitError } from '@svidkit/core/errors'
import { TrustDomain } from '@svidkit/core/spiffe-id'
import { WorkloadApiClient, X509Source } from '@svidkit/core/workload-api'
import type { X509Svid } from '@svidkit/core/x509-svid'
import { codeOf, DevAgent } from '@svidkit/testing'
import { afterEach, describe, expect, test } from 'vitest'
import { startFakeServer } from './fake-server.js'

const backoff = { initialMs: 50, maxMs: 200 }
const td = (name: string) => TrustDomain.parse(name)

const dirs: string[] = []
const socketPath = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'svidkit-x509src-'))
  dirs.push(dir)
  return join(dir, 'agent.sock')
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('X509Source', () => {
  test('serves the default SVID and the bundles, and is healthy', async () => {
    await using agent = await DevAgent.start({
      socketPath: socketPath(),
      identities: [{ spiffeId: '/web' }, { spiffeId: '/db', hint: 'db' }],
      federation: ['partner.org'],
    })
    await using source = await X509Source.create({ address: agent.address, backoff })
    expect(source.getX509Svid().id.toString()).toBe('spiffe://example.org/web')
    expect(source.getX509Svids()).toHaveLength(2)
    expect(source.getX509BundleForTrustDomain(td('example.org'))!.hasAuthority(agent.ca.certificate)).toBe(
      true,
    )
    expect(source.getX509BundleForTrustDomain(td('partner.org'))).toBeDefined()
    expect(source.getX509BundleForTrustDomain(td('other.org'))).toBeUndefined()
    expect(source.bundles.trustDomains().map(String)).toEqual(['example.org', 'partner.org'])
    expect(source.healthy).toBe(true)
  })

  test('picker by hint, by SPIFFE ID, or by function; no match → a timeout that says why', async () => {
    await using agent = await DevAgent.start({
      socketPath: socketPath(),
      identities: [
        { spiffeId: '/web', hint: 'internal' },
        { spiffeId: '/web-ext', hint: 'external' },
      ],
    })
    const address = agent.address
    await using byHint = await X509Source.create({ address, picker: { hint: 'external' } })
    expect(byHint.getX509Svid().id.path).toBe('/web-ext')
    await using byId = await X509Source.create({
      address,
      picker: { spiffeId: 'spiffe://example.org/web-ext' },
    })
    expect(byId.getX509Svid().hint).toBe('external')
    await using byFn = await X509Source.create({ address, picker: (svids) => svids.at(-1) })
    expect(byFn.getX509Svid().id.path).toBe('/web-ext')
    const err = await X509Source.create({ address, picker: { hint: 'nope' }, timeoutMs: 300 }).catch((e) => e)
    expect(err.code).toBe('ERR_SOURCE_TIMEOUT')
    expect(err.details.reason).toBe('unusable')
    expect(err.message).toContain('hint "nope"')
    expect(await codeOf(() => X509Source.create({ address, picker: { hint: '' } }))).toBe(
      'ERR_OPTIONS_INVALID',
    )
    expect(await codeOf(() => X509Source.create({ address, timeoutMs: -1 }))).toBe('ERR_OPTIONS_INVALID')
  })

  test('rotation is observed without a restart', async () => {
    await using agent = await DevAgent.start({
      socketPath: socketPath(),
      identities: [{ spiffeId: '/web' }],
      svidTtlSeconds: 2,
    })
    await using source = await X509Source.create({ address: agent.address, backoff })
    const first = source.getX509Svid()
    let updates = 0
    source.on('update', () => updates++)
    await source.waitUntilUpdated(AbortSignal.timeout(5000)) // the agent re-issues at half-life (1 s)
    const second = source.getX509Svid()
    expect(second.certificates[0]!.serialNumber).not.toBe(first.certificates[0]!.serialNumber)
    expect(second.expiresAt.getTime()).toBeGreaterThan(first.expiresAt.getTime())
    expect(updates).toBe(1)
    expect(source.healthy).toBe(true)
  })

  test('redaction: a revoked SVID is no longer served; PermissionDenied drops everything', async () => {
    await using agent = await DevAgent.start({
      socketPath: socketPath(),
      identities: [
        { spiffeId: '/web', hint: 'a' },
        { spiffeId: '/db', hint: 'b' },
      ],
    })
    await using source = await X509Source.create({ address: agent.address, picker: { hint: 'b' }, backoff })
    expect(source.getX509Svid().id.path).toBe('/db')
    const updated = source.waitUntilUpdated(AbortSignal.timeout(5000))
    agent.revoke('/db')
    await updated
    expect(await codeOf(() => source.getX509Svid())).toBe('ERR_SOURCE_NO_SVID')
    expect(source.getX509Svids().map((s) => s.id.path)).toEqual(['/web'])
    expect(source.healthy).toBe(false)

    const errors: Error[] = []
    source.on('error', (e) => errors.push(e))
    const redacted = source.waitUntilUpdated(AbortSignal.timeout(5000))
    agent.revoke('/web') // no identity left: the agent ends the stream with PermissionDenied
    await redacted
    expect(source.getX509Svids()).toEqual([])
    expect(source.getX509BundleForTrustDomain(td('example.org'))).toBeUndefined()
    expect(errors.some((e) => (e as SvidkitError).code === 'ERR_WORKLOAD_API_PERMISSION_DENIED')).toBe(true)

    // …and the source comes back when identities do.
    await agent.setIdentities([{ spiffeId: '/db', hint: 'b' }])
    await source.waitUntilUpdated(AbortSignal.timeout(5000))
    expect(source.getX509Svid().id.path).toBe('/db')
  })

  test('a federated bundle added and then removed; unchanged bundles keep their identity', async () => {
    await using agent = await DevAgent.start({ socketPath: socketPath(), identities: [{ spiffeId: '/web' }] })
    await using source = await X509Source.create({ address: agent.address, backoff })
    const own = source.getX509BundleForTrustDomain(td('example.org'))
    expect(source.getX509BundleForTrustDomain(td('partner.org'))).toBeUndefined()

    let updated = source.waitUntilUpdated(AbortSignal.timeout(5000))
    const partner = await agent.addFederatedBundle('partner.org')
    await updated
    expect(source.getX509BundleForTrustDomain(td('partner.org'))!.hasAuthority(partner.certificate)).toBe(
      true,
    )
    expect(source.getX509BundleForTrustDomain(td('example.org'))).toBe(own)

    updated = source.waitUntilUpdated(AbortSignal.timeout(5000))
    agent.removeFederatedBundle('partner.org')
    await updated
    expect(source.getX509BundleForTrustDomain(td('partner.org'))).toBeUndefined()
    expect(source.bundles.trustDomains().map(String)).toEqual(['example.org'])
  })

  test('agent killed and restarted mid-stream: serves nothing expired meanwhile, then recovers', async () => {
    await using agent = await DevAgent.start({
      socketPath: socketPath(),
      identities: [{ spiffeId: '/web' }],
      svidTtlSeconds: 2,
    })
    await using source = await X509Source.create({ address: agent.address, backoff })
    const errors: SvidkitError[] = []
    source.on('error', (e) => errors.push(e as SvidkitError))
    await agent.stop()
    await expect.poll(() => source.healthy, { timeout: 3000 }).toBe(false)

    // While the agent is down, poll the source: every SVID it hands out must be unexpired.
    const served: X509Svid[] = []
    let expiredSeen = false
    const deadline = Date.now() + 2600
    while (Date.now() < deadline) {
      try {
        const svid = source.getX509Svid()
        expect(svid.expiresAt.getTime()).toBeGreaterThan(Date.now())
        served.push(svid)
      } catch (err) {
        expect((err as SvidkitError).code).toBe('ERR_SOURCE_SVID_EXPIRED')
        expiredSeen = true
        break
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(expiredSeen).toBe(true)
    expect(served.length).toBeGreaterThan(0) // the last good SVID was served until it expired
    expect(source.healthy).toBe(false)
    expect(errors.length).toBeGreaterThan(0)
    expect(source.lastError).toBeDefined()

    const recovered = source.waitUntilUpdated(AbortSignal.timeout(5000))
    await agent.start()
    await recovered
    const svid = source.getX509Svid()
    expect(svid.expiresAt.getTime()).toBeGreaterThan(Date.now())
    expect(source.healthy).toBe(true)
    expect(source.lastError).toBeUndefined()
  })

  test('agent absent at start: ERR_SOURCE_TIMEOUT saying the socket is unreachable', async () => {
    const started = Date.now()
    const err = await X509Source.create({
      address: `unix://${socketPath()}`,
      timeoutMs: 400,
      backoff,
    }).catch((e) => e)
    expect(err.code).toBe('ERR_SOURCE_TIMEOUT')
    expect(err.details.reason).toBe('unreachable')
    expect(err.message).toContain('unreachable')
    expect(err.message).toContain('within 400 ms')
    expect(Date.now() - started).toBeLessThan(2000)
  })

  test('PermissionDenied is retried until identities appear; a timeout says so', async () => {
    await using agent = await DevAgent.start({ socketPath: socketPath(), identities: [] })
    const denied = await X509Source.create({ address: agent.address, timeoutMs: 300, backoff }).catch(
      (e) => e,
    )
    expect(denied.code).toBe('ERR_SOURCE_TIMEOUT')
    expect(denied.details.reason).toBe('permission-denied')
    expect(denied.message).toContain('PermissionDenied')

    const pending = X509Source.create({ address: agent.address, timeoutMs: 5000, backoff })
    setTimeout(() => void agent.setIdentities([{ spiffeId: '/late' }]), 300)
    await using source = await pending
    expect(source.getX509Svid().id.path).toBe('/late')

    // deny() for a while: open streams fail with PermissionDenied, new ones are retried until it ends.
    agent.deny(400)
    await expect.poll(() => source.healthy, { timeout: 3000 }).toBe(false)
    await source.waitUntilUpdated(AbortSignal.timeout(5000))
    await expect.poll(() => source.healthy, { timeout: 5000 }).toBe(true)
  })

  test('InvalidArgument stops the watch: create() rejects with it', async () => {
    const server = await startFakeServer({
      FetchX509SVID: (call: ServerWritableStream<unknown, unknown>) =>
        call.emit('error', {
          code: status.INVALID_ARGUMENT,
          details: 'security header missing from request',
        }),
    })
    try {
      const err = await X509Source.create({ address: server.address, backoff }).catch((e) => e)
      expect(err.code).toBe('ERR_WORKLOAD_API_INVALID_ARGUMENT')
    } finally {
      await server.close()
    }
  })

  test('close(): getters throw ERR_SOURCE_CLOSED; a shared client stays open; signals cancel and close', async () => {
    await using agent = await DevAgent.start({ socketPath: socketPath(), identities: [{ spiffeId: '/web' }] })
    const client = new WorkloadApiClient({ address: agent.address })
    const source = await X509Source.create({ client })
    const waiting = source.waitUntilUpdated()
    await source.close()
    await source.close()
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_SOURCE_CLOSED' })
    expect(await codeOf(() => source.getX509Svid())).toBe('ERR_SOURCE_CLOSED')
    expect(await codeOf(() => source.getX509Svids())).toBe('ERR_SOURCE_CLOSED')
    expect(await codeOf(() => source.getX509BundleForTrustDomain(td('example.org')))).toBe(
      'ERR_SOURCE_CLOSED',
    )
    expect(await codeOf(() => source.bundles)).toBe('ERR_SOURCE_CLOSED')
    expect(await codeOf(() => source.waitUntilUpdated())).toBe('ERR_SOURCE_CLOSED')
    expect(source.healthy).toBe(false)
    expect(client.closed).toBe(false)
    expect((await client.fetchX509Svid()).id.path).toBe('/web')
    client.close()

    const ac = new AbortController()
    const open = await X509Source.create({ address: agent.address, signal: ac.signal })
    ac.abort()
    await expect.poll(() => codeOf(() => open.getX509Svid())).toBe('ERR_SOURCE_CLOSED')

    const never = new AbortController()
    const pending = X509Source.create({ address: `unix://${socketPath()}`, signal: never.signal, backoff })
    never.abort(new Error('shutting down'))
    await expect(pending).rejects.toThrow('shutting down')
  })
})
