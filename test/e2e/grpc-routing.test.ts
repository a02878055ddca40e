// gRPC's side of the routing table: grpc-js dispatches on the exact `:path`, and policy matches gRPC
// method names exactly, so no spelling of a denied method reaches its handler. Each call is sent
// over real HTTP/2 + TLS with a raw `:path` (a grpc-js client would not send most of these).
import { connect as http2Connect } from 'node:http2'
import { connect as tlsConnect } from 'node:tls'
import * as grpc from '@grpc/grpc-js'
import { createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import { StaticSource } from '@svidkit/core/source'
import { matchMemberOf } from '@svidkit/core/spiffe-id'
import { serveSvid, svidInterceptor } from '@svidkit/grpc'
import { TestCA } from '@svidkit/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { jsonUnaryMethod } from './harness/grpc-client.js'

const SELF = 'spiffe://example.org/orders'
const WEB = 'spiffe://example.org/web'

const policies = {
  'default allow with a DENY': definePolicy({
    defaultAction: 'allow',
    rules: [{ id: 'no-export', action: 'DENY', to: [{ grpcMethods: ['/demo.Orders/Export'] }] }],
  }),
  'default deny': definePolicy({
    rules: [
      { id: 'read', from: [{ trustDomains: ['example.org'] }], to: [{ grpcMethods: ['/demo.Orders/Get'] }] },
    ],
  }),
}

let ca: TestCA
let client: { cert: string; key: string }
beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
  const svid = await ca.issueX509Svid({ id: WEB })
  client = { cert: svid.certificatesPem, key: svid.privateKeyPem }
})

/** One unary call with a raw `:path`; the gRPC status it ends with. */
function call(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://127.0.0.1:${port}`, {
      createConnection: () =>
        tlsConnect({
          host: '127.0.0.1',
          port,
          ca: ca.x509Bundle().toPem(),
          ALPNProtocols: ['h2'],
          cert: client.cert,
          key: client.key,
          checkServerIdentity: () => undefined,
        }),
    })
    const timer = setTimeout(() => {
      session.destroy()
      reject(new Error(`${path}: timed out`))
    }, 5000)
    session.on('error', reject)
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    })
    let status: number | undefined
    const read = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined) status = Number(h['grpc-status'])
    }
    stream.on('response', read)
    stream.on('trailers', read)
    stream.on('data', () => {})
    stream.on('close', () => {
      clearTimeout(timer)
      session.close()
      resolve(status ?? -1)
    })
    stream.on('error', reject)
    const body = Buffer.from('{}')
    const head = Buffer.alloc(5)
    head.writeUInt32BE(body.length, 1)
    stream.end(Buffer.concat([head, body]))
  })
}

// Spellings a router that normalises paths might take for /demo.Orders/Export.
const VARIANTS = [
  '/demo.Orders/export',
  '/demo.orders/Export',
  '/DEMO.ORDERS/EXPORT',
  '/demo.Orders/Export/',
  '//demo.Orders/Export',
  '/demo.Orders//Export',
  '/demo.Orders/Export?x=1',
  '/demo.Orders/Export;x',
  '/demo.Orders/Export#x',
  '/demo.Orders/%45xport',
  '/demo.Orders/./Export',
  '/demo.Orders/Get/../Export',
]

describe.each(Object.entries(policies))('@svidkit/grpc routing: %s', (_name, policy) => {
  let port: number
  let close: () => Promise<void>
  const served: string[] = []
  beforeAll(async () => {
    const service: Record<string, grpc.MethodDefinition<unknown, unknown>> = {}
    const handlers: grpc.UntypedServiceImplementation = {}
    for (const name of ['Get', 'Export']) {
      const path = `/demo.Orders/${name}`
      service[name] = jsonUnaryMethod(path)
      handlers[name] = (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
        served.push(path)
        callback(null, {})
      }
    }
    const server = new grpc.Server({
      interceptors: [
        svidInterceptor({
          bundles: ca.bundleSet(),
          self: SELF,
          audit: false,
          authorizer: createPolicyAuthorizer(policy),
        }),
      ],
    })
    server.addService(service, handlers)
    const source = new StaticSource({ svid: await ca.issueX509Svid({ id: SELF }), bundles: ca.bundleSet() })
    const listener = await serveSvid(server, {
      address: '127.0.0.1:0',
      source,
      authorize: matchMemberOf('example.org'),
    })
    port = listener.port
    close = async () => {
      await listener.close({ graceMs: 0 })
      server.forceShutdown()
      await source.close()
    }
  })
  afterAll(() => close())

  test('the exact names: Get is served, Export is denied', async () => {
    expect(await call(port, '/demo.Orders/Get')).toBe(grpc.status.OK)
    expect(await call(port, '/demo.Orders/Export')).toBe(grpc.status.PERMISSION_DENIED)
    expect(served).toEqual(['/demo.Orders/Get'])
  })

  test.each(VARIANTS)('%s never reaches a handler', async (path) => {
    served.length = 0
    const status = await call(port, path)
    expect([grpc.status.UNIMPLEMENTED, grpc.status.PERMISSION_DENIED]).toContain(status)
    expect(served).toEqual([])
  })
})
