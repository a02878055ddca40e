// gRPC interop: go-spiffe v2.9.0's spiffegrpc/grpccredentials (on gRPC-Go v1.79.3) against
// @svidkit/grpc, both ways, with SVIDs from svidkit's dev agent. The service on both sides is the
// standard grpc.health.v1.Health, which svidkit guards like any other service (grpc-health-check on
// the svidkit side, gRPC-Go's health server on the go side).
import { authorizeId, authorizeMemberOf } from '@svidkit/core/policy'
import { BundleSource, X509Source } from '@svidkit/core/workload-api'
import { DevAgent } from '@svidkit/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWith, errorCode, waitFor } from './harness/env.js'
import { runPeer, startPeer } from './harness/go-peer.js'
import { removeTempDir, tempDir } from './harness/processes.js'
import { startSvidkitGrpcServer, svidkitHealthCheck } from './harness/svidkit-grpc.js'

const TD = 'example.org'
const id = (path: string): string => `spiffe://${TD}${path}`
const CHECK = '/grpc.health.v1.Health/Check'

interface GoCall {
  ok: boolean
  code: string
  message: string
  status?: string
  serverId?: string
}

describeWith(['goPeer'])("gRPC: go-spiffe's grpccredentials and @svidkit/grpc", () => {
  let dir: string
  let dev: DevAgent
  let api: X509Source
  const socket = (name: string): string => `unix://${dir}/${name}.sock`

  beforeAll(async () => {
    dir = tempDir('grpc-interop')
    dev = await DevAgent.start({
      trustDomain: TD,
      sockets: [
        { name: 'web', socketPath: `${dir}/web.sock`, identities: [{ spiffeId: '/web' }] },
        { name: 'api', socketPath: `${dir}/api.sock`, identities: [{ spiffeId: '/api' }] },
        { name: 'batch', socketPath: `${dir}/batch.sock`, identities: [{ spiffeId: '/batch' }] },
      ],
      svidTtlSeconds: 120,
    })
    api = await X509Source.create({ address: socket('api'), timeoutMs: 10_000 })
  })

  afterAll(async () => {
    await api?.close()
    await dev?.close()
    if (dir) removeTempDir(dir)
  })

  it('go-spiffe client → svidkit server: Health is served and guarded per method; refusals both ways', async () => {
    // The handshake admits the trust domain; the interceptor lets only /web call Health/Check.
    const srv = await startSvidkitGrpcServer(api, {
      authorize: authorizeMemberOf(TD),
      methods: { [CHECK]: { callers: [id('/web')] } },
    })
    const call = (from: string, serverId = id('/api'), service = 'orders') =>
      runPeer<GoCall>([
        'call-grpc',
        '-socket',
        socket(from),
        '-target',
        srv.target,
        '-server-id',
        serverId,
        '-service',
        service,
      ])
    try {
      const ok = await call('web')
      expect(ok.json, ok.stderr).toMatchObject({
        ok: true,
        code: 'OK',
        status: 'SERVING',
        serverId: id('/api'),
      })
      // svidkit refuses a caller the method does not allow: PERMISSION_DENIED with svidkit's reason.
      const denied = await call('batch')
      expect(denied.json).toMatchObject({ ok: false, code: 'PermissionDenied' })
      expect(denied.json.message).toMatch(/^ERR_ACCESS_DENIED: /)
      // An unknown service is Health's own NOT_FOUND, after svidkit let the call through.
      expect((await call('web', id('/api'), 'billing')).json).toMatchObject({ ok: false, code: 'NotFound' })
      // go-spiffe refuses svidkit's server when it expects another ID.
      const wrongServer = await call('web', id('/batch'))
      expect(wrongServer.json).toMatchObject({ ok: false, code: 'Unavailable' })
      expect(wrongServer.json.message).toMatch(/unexpected ID/)
    } finally {
      await srv.close()
    }
    // svidkit refuses a client in the handshake when the listener's authorizer does not admit it.
    const strict = await startSvidkitGrpcServer(api, { authorize: authorizeId(id('/web')) })
    try {
      const refused = await runPeer<GoCall>([
        'call-grpc',
        '-socket',
        socket('batch'),
        '-target',
        strict.target,
        '-server-id',
        id('/api'),
      ])
      expect(refused.json).toMatchObject({ ok: false, code: 'Unavailable' })
      await waitFor('the refusal to be reported', () => strict.refused.length > 0)
      expect(errorCode(strict.refused[0])).toBe('ERR_TLS_PEER_NOT_AUTHORIZED')
    } finally {
      await strict.close()
    }
  })

  it('go-spiffe client with a JWT-SVID from the Workload API, over mTLS: svidkit verifies both', async () => {
    await using bundles = await BundleSource.create({ address: socket('api'), timeoutMs: 10_000 })
    const srv = await startSvidkitGrpcServer(api, {
      bundles,
      jwtAudience: id('/api'),
      methods: { [CHECK]: { callers: [id('/web')], channels: ['mtls'] } },
    })
    try {
      const base = ['call-grpc', '-socket', socket('web'), '-target', srv.target, '-server-id', id('/api')]
      const ok = await runPeer<GoCall>([...base, '-jwt-audience', id('/api')])
      expect(ok.json, ok.stderr).toMatchObject({ ok: true, status: 'SERVING' })
      // A token for another audience is refused, whatever the certificate says.
      const wrong = await runPeer<GoCall>([...base, '-jwt-audience', id('/billing')])
      expect(wrong.json).toMatchObject({ ok: false, code: 'Unauthenticated' })
      expect(wrong.json.message).toMatch(/^ERR_JWT_SVID_AUDIENCE_MISMATCH: /)
    } finally {
      await srv.close()
    }
  })

  it('svidkit client → go-spiffe server (MTLSServerCredentials): the go server sees svidkit’s ID; refusals both ways', async () => {
    await using web = await X509Source.create({ address: socket('web'), timeoutMs: 10_000 })
    const go = await startPeer(['serve-grpc', '-socket', socket('api'), '-authorize-id', id('/web')])
    try {
      const ok = await svidkitHealthCheck(web, go.ready, authorizeId(id('/api')))
      expect(ok).toEqual({ code: 0, status: 'SERVING', peerId: id('/web') })
      // svidkit refuses a server whose ID it did not ask for: nothing is sent, the call is UNAVAILABLE.
      const wrongServer = await svidkitHealthCheck(web, go.ready, authorizeId(id('/batch')))
      expect(wrongServer.code).toBe(14)
    } finally {
      await go.stop()
    }
    // go-spiffe refuses a client it did not authorize.
    const strict = await startPeer(['serve-grpc', '-socket', socket('api'), '-authorize-id', id('/batch')])
    try {
      const refused = await svidkitHealthCheck(web, strict.ready, authorizeId(id('/api')))
      expect(refused.code).not.toBe(0)
      expect(refused.status).toBeUndefined()
    } finally {
      await strict.stop()
    }
  })

  it('svidkit client → svidkit server: Health is public when the method says so, even without a caller', async () => {
    await using web = await X509Source.create({ address: socket('web'), timeoutMs: 10_000 })
    const srv = await startSvidkitGrpcServer(api, {
      methods: { '/grpc.health.v1.Health/*': { public: true } },
    })
    try {
      expect(await svidkitHealthCheck(web, srv.target, authorizeId(id('/api')))).toEqual({
        code: 0,
        status: 'SERVING',
      })
      const go = await runPeer<GoCall>([
        'call-grpc',
        '-socket',
        socket('batch'),
        '-target',
        srv.target,
        '-server-id',
        id('/api'),
      ])
      expect(go.json).toMatchObject({ ok: true, status: 'SERVING' })
    } finally {
      await srv.close()
    }
  })
})
