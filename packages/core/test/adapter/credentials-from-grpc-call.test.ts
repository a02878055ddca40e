import { credentialsFromGrpcCall, type GrpcMetadataLike } from '@svidkit/core/adapter'
import { BundleSet } from '@svidkit/core/bundle'
import { createCallerVerifier } from '@svidkit/core/caller'
import { describe, expect, test } from 'vitest'

/** grpc-js `Metadata.get` semantics: every value of a key, in order (keys are lower case). */
function metadata(entries: Record<string, (string | Buffer)[]>): GrpcMetadataLike {
  return { get: (key) => entries[key] ?? [] }
}

const bundles = new BundleSet()
const socket = { remoteAddress: '10.0.0.7', getPeerX509Certificate: () => undefined }

describe('credentialsFromGrpcCall', () => {
  test('reads the metadata keys of the configured channels, and the connection', () => {
    const verifier = createCallerVerifier({
      bundles,
      mtls: false,
      jwt: { audience: 'orders' },
      xfcc: { trustedPeers: { addresses: ['127.0.0.1'] } },
      forwardedCert: { format: 'nginx', header: 'X-SSL-Client-Cert', chainHeader: 'X-SSL-Client-Chain' },
      audit: false,
    })
    const md = metadata({
      authorization: ['Bearer a.b.c'],
      'x-forwarded-client-cert': ['By=a;URI=b', 'By=c;URI=d'],
      'x-ssl-client-cert': ['PEM'],
      'x-ssl-client-chain': ['CHAIN'],
      'x-other': ['ignored'],
    })
    expect(
      credentialsFromGrpcCall(verifier, { method: '/orders.v1.Orders/Get', metadata: md, socket }),
    ).toEqual({
      operation: { kind: 'grpc', method: '/orders.v1.Orders/Get' },
      socket,
      peerAddress: '10.0.0.7',
      authorization: 'Bearer a.b.c',
      xfcc: ['By=a;URI=b', 'By=c;URI=d'],
      forwardedCert: 'PEM',
      forwardedCertChain: 'CHAIN',
    })
  })

  test('channels that are off are not read; an explicit peer address wins; binary values are skipped', () => {
    const verifier = createCallerVerifier({ bundles, audit: false })
    expect(verifier.headers).toEqual({
      authorization: undefined,
      xfcc: undefined,
      forwardedCert: undefined,
      forwardedCertChain: undefined,
    })
    const md = metadata({ authorization: ['Bearer a.b.c'], 'x-forwarded-client-cert': ['By=a;URI=b'] })
    const c = credentialsFromGrpcCall(verifier, { method: '/a.B/C', metadata: md, peerAddress: '127.0.0.2' })
    expect(c).toMatchObject({ peerAddress: '127.0.0.2', authorization: undefined, xfcc: undefined })

    const jwt = createCallerVerifier({ bundles, jwt: { audience: 'orders' }, audit: false })
    const binary = metadata({ authorization: [Buffer.from('Bearer a.b.c')] })
    expect(credentialsFromGrpcCall(jwt, { method: '/a.B/C', metadata: binary }).authorization).toBeUndefined()
    const mixed = metadata({ authorization: [Buffer.from('x'), 'Bearer a.b.c', 'Bearer d.e.f'] })
    expect(credentialsFromGrpcCall(jwt, { method: '/a.B/C', metadata: mixed }).authorization).toEqual([
      'Bearer a.b.c',
      'Bearer d.e.f',
    ])
  })

  test("the peer address falls back to grpc-js's getPeer() string, IPv6 brackets removed", () => {
    const verifier = createCallerVerifier({ bundles, audit: false })
    const md = metadata({})
    const address = (input: { peer?: string; peerAddress?: string }) =>
      credentialsFromGrpcCall(verifier, { method: '/a.B/C', metadata: md, ...input }).peerAddress
    expect(address({ peer: '127.0.0.2:50051' })).toBe('127.0.0.2')
    expect(address({ peer: '[::1]:50051' })).toBe('::1')
    expect(address({ peer: '::ffff:10.0.0.7:50051' })).toBe('::ffff:10.0.0.7')
    expect(address({ peer: 'unknown' })).toBeUndefined()
    expect(address({ peer: '127.0.0.2:1', peerAddress: '10.0.0.9' })).toBe('10.0.0.9')
  })

  test('verifyCaller refuses what it extracted like any other request (a repeated authorization)', () => {
    const verifier = createCallerVerifier({ bundles, jwt: { audience: 'orders' }, audit: false })
    const md = metadata({ authorization: ['Bearer a.b.c', 'Bearer d.e.f'] })
    expect(() =>
      verifier.verifyCaller(credentialsFromGrpcCall(verifier, { method: '/a.B/C', metadata: md })),
    ).toThrow(expect.objectContaining({ code: 'ERR_CREDENTIALS_MALFORMED' }))
  })
})
