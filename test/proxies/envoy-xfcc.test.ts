// Envoy-shaped XFCC over real sockets. Envoy has no Debian package, so the proxy hop is a client that
// connects from the trusted address (127.0.0.2) and sends the header Envoy would write, to the same
// Node application the nginx and HAProxy tests use. Needs no proxy binary: never skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bodyOf, send } from './support/client.js'
import { envoyElement } from './support/envoy-xfcc.js'
import { ADMIN_ID, createPki, type Pki, PROXY_ID, WEB_ID } from './support/pki.js'
import { PROXY_SOURCE, startUpstream, type Upstream } from './support/upstream.js'

describe('Envoy-shaped XFCC from a trusted peer to a Node application', () => {
  let pki: Pki
  let upstream: Upstream | undefined

  beforeAll(async () => {
    pki = await createPki()
    upstream = await startUpstream({
      bundles: pki.bundles,
      forwardedCert: { format: 'nginx', header: 'x-client-cert' },
      xfccBy: PROXY_ID,
    })
  })
  afterAll(async () => {
    await upstream?.close()
  })

  const leaf = (client: keyof Pki['clients']) => pki.clients[client].certificates[0]!
  const xfcc = (header: string, localAddress = PROXY_SOURCE) =>
    send({ port: upstream!.port, localAddress, headers: { 'x-forwarded-client-cert': header } })

  it('accepts a sidecar-shaped element (By, Hash, Subject, URI) as channel xfcc', async () => {
    const body = bodyOf(await xfcc(envoyElement({ by: PROXY_ID, leaf: leaf('web'), uri: WEB_ID })))
    expect(body).toMatchObject({
      ok: true,
      channel: 'xfcc',
      spiffeId: WEB_ID,
      certificateVerified: false,
      peerAddress: PROXY_SOURCE,
    })
  })

  it('verifies Cert (Envoy escaping) against the bundles when the gateway forwards it', async () => {
    const body = bodyOf(
      await xfcc(envoyElement({ by: PROXY_ID, leaf: leaf('web'), uri: WEB_ID, withCert: true })),
    )
    expect(body).toMatchObject({ ok: true, channel: 'xfcc', spiffeId: WEB_ID, certificateVerified: true })
  })

  it('reads the last element under APPEND_FORWARD, ignoring one the client prepended', async () => {
    const forged = `By=${PROXY_ID};URI=${ADMIN_ID}`
    const body = bodyOf(
      await xfcc(`${forged},${envoyElement({ by: PROXY_ID, leaf: leaf('web'), uri: WEB_ID })}`),
    )
    expect(body).toMatchObject({ ok: true, spiffeId: WEB_ID })
  })

  it('refuses the same header from an untrusted address', async () => {
    const body = bodyOf(
      await xfcc(envoyElement({ by: PROXY_ID, leaf: leaf('web'), uri: WEB_ID }), '127.0.0.1'),
    )
    expect(body).toMatchObject({
      ok: false,
      status: 401,
      code: 'ERR_XFCC_UNTRUSTED_PEER',
      peerAddress: '127.0.0.1',
    })
  })

  it('refuses an element written by another proxy (By mismatch)', async () => {
    const body = bodyOf(
      await xfcc(
        envoyElement({ by: 'spiffe://example.org/ns/edge/sa/other', leaf: leaf('web'), uri: WEB_ID }),
      ),
    )
    expect(body).toMatchObject({ ok: false, status: 401, code: 'ERR_XFCC_BY_MISMATCH' })
  })

  it('refuses a URI that does not match the forwarded Cert', async () => {
    const body = bodyOf(
      await xfcc(envoyElement({ by: PROXY_ID, leaf: leaf('web'), uri: ADMIN_ID, withCert: true })),
    )
    expect(body).toMatchObject({ ok: false, status: 401, code: 'ERR_XFCC_CERT_MISMATCH' })
  })

  it('refuses a Cert claiming example.org but signed by the other.org CA', async () => {
    const body = bodyOf(
      await xfcc(envoyElement({ by: PROXY_ID, leaf: leaf('crossDomain'), uri: ADMIN_ID, withCert: true })),
    )
    expect(body).toMatchObject({ ok: false, status: 401, code: 'ERR_X509_SVID_UNTRUSTED' })
  })

  it('refuses a Cert of a trust domain the application has no bundle for', async () => {
    const body = bodyOf(
      await xfcc(
        envoyElement({
          by: PROXY_ID,
          leaf: leaf('stranger'),
          uri: 'spiffe://stranger.org/ns/prod/sa/web',
          withCert: true,
        }),
      ),
    )
    expect(body).toMatchObject({ ok: false, status: 401, code: 'ERR_X509_SVID_NO_BUNDLE' })
  })
})
