// The checks every real proxy (nginx, HAProxy) goes through: it terminates mTLS with a test-CA
// X.509-SVID client certificate and forwards the certificate in a header to the Node application,
// which verifies it with createCallerVerifier({ forwardedCert: { format, header, trustedPeers } }).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ensureProxies } from '../setup/ensure-proxies.mjs'
import { bodyOf, type Outcome, send } from './client.js'
import { envoyElement } from './envoy-xfcc.js'
import { ADMIN_ID, createPki, type Pki, PROXY_ID, WEB_ID, writePkiFiles } from './pki.js'
import { freePort, type RunningProcess, startListening } from './processes.js'
import {
  HAPROXY_HEADER,
  haproxyCommand,
  NGINX_HEADER,
  nginxCommand,
  type ProxyConfigInput,
} from './proxy-configs.js'
import { PROXY_SOURCE, startUpstream, type Upstream } from './upstream.js'

type ProxyKind = 'nginx' | 'haproxy'

interface Kind {
  readonly title: string
  readonly header: string
  /** How this proxy encodes a client leaf in its header. */
  readonly encode: (leafPem: string, leafDer: Buffer) => string
  readonly command: (binary: string, input: ProxyConfigInput) => { command: string; args: string[] }
}

const KINDS: Record<ProxyKind, Kind> = {
  nginx: {
    title: 'nginx',
    header: NGINX_HEADER,
    // $ssl_client_escaped_cert: every byte but A-Z a-z 0-9 - . _ ~ as %XX (PEM has none of !'()*).
    encode: (pem) => encodeURIComponent(pem),
    command: nginxCommand,
  },
  haproxy: {
    title: 'HAProxy',
    header: HAPROXY_HEADER,
    encode: (_pem, der) => der.toString('base64'),
    command: haproxyCommand,
  },
}

export function describeProxy(kind: ProxyKind): void {
  const k = KINDS[kind]

  describe(`${k.title} terminating mTLS in front of a Node application`, () => {
    let skipReason: string | undefined
    let dir: string | undefined
    let pki: Pki
    let upstream: Upstream | undefined
    let proxy: RunningProcess | undefined
    let proxyPort = 0
    let upstreamPort = 0

    beforeAll(async () => {
      const ensured = ensureProxies([kind])
      if (ensured.skipReason) {
        skipReason = ensured.skipReason
        console.warn(`skipping the ${k.title} tests: ${skipReason}`)
        return
      }
      dir = mkdtempSync(join(tmpdir(), `svidkit-${kind}-`))
      pki = await createPki()
      const files = writePkiFiles(pki, dir)
      upstream = await startUpstream({
        bundles: pki.bundles,
        forwardedCert: { format: kind, header: k.header },
        xfccBy: PROXY_ID,
      })
      upstreamPort = upstream.port
      proxyPort = await freePort()
      const { command, args } = k.command(ensured.paths[kind]!, {
        dir,
        files,
        listenPort: proxyPort,
        upstreamPort,
      })
      proxy = await startListening(k.title, command, args, proxyPort)
    })

    afterAll(async () => {
      await proxy?.stop()
      await upstream?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    beforeEach((ctx) => {
      if (skipReason) ctx.skip(skipReason)
    })

    const viaProxy = (
      client: keyof Pki['clients'] | undefined,
      headers?: [string, string][],
    ): Promise<Outcome> => {
      const svid = client === undefined ? undefined : pki.clients[client]
      return send({
        port: proxyPort,
        tls: {
          ca: pki.webCa.certificate.toString(),
          ...(svid ? { cert: svid.certificatesPem, key: svid.privateKeyPem } : {}),
        },
        ...(headers ? { headers } : {}),
      })
    }
    const encoded = (client: keyof Pki['clients']) => {
      const leaf = pki.clients[client].certificates[0]!
      return k.encode(leaf.toString(), leaf.raw)
    }
    const withOutput = (what: string) => `${what}\n--- ${k.title} output ---\n${proxy?.output() ?? ''}`

    it('delivers the client SPIFFE ID, verified, as channel xfcc', async () => {
      const body = bodyOf(await viaProxy('web'))
      expect(body, withOutput('response')).toMatchObject({
        ok: true,
        status: 200,
        channel: 'xfcc',
        spiffeId: WEB_ID,
        certificateVerified: true,
        peerAddress: PROXY_SOURCE,
      })
      // Exactly the encoding core's decoder expects, on one header line.
      expect(body.headers[k.header]).toEqual([encoded('web')])
    })

    it('replaces certificate headers the client sends through the proxy', async () => {
      const forgedXfcc = envoyElement({
        by: PROXY_ID,
        leaf: pki.clients.admin.certificates[0]!,
        uri: ADMIN_ID,
        withCert: true,
      })
      const body = bodyOf(
        await viaProxy('web', [
          [k.header, encoded('admin')],
          [k.header.toUpperCase(), encoded('admin')],
          ['X-Forwarded-Client-Cert', forgedXfcc],
        ]),
      )
      expect(body, withOutput('response')).toMatchObject({ ok: true, channel: 'xfcc', spiffeId: WEB_ID })
      expect(body.headers[k.header]).toEqual([encoded('web')])
      expect(body.headers['x-forwarded-client-cert']).toBeUndefined()
    })

    it('refuses a forged header sent straight to the application from an untrusted address', async () => {
      // A genuine certificate of the admin workload, without its key: only a trusted proxy may vouch.
      const direct = bodyOf(await send({ port: upstreamPort, headers: { [k.header]: encoded('admin') } }))
      expect(direct).toMatchObject({
        ok: false,
        status: 401,
        code: 'ERR_FORWARDED_CERT_UNTRUSTED_PEER',
        peerAddress: '127.0.0.1',
      })
      const xfcc = envoyElement({ by: PROXY_ID, leaf: pki.clients.admin.certificates[0]!, uri: ADMIN_ID })
      const directXfcc = bodyOf(
        await send({ port: upstreamPort, headers: { 'x-forwarded-client-cert': xfcc } }),
      )
      expect(directXfcc).toMatchObject({ ok: false, status: 401, code: 'ERR_XFCC_UNTRUSTED_PEER' })
    })

    it('refuses a certificate claiming example.org but signed by the other.org CA (the proxy lets it through)', async () => {
      const body = bodyOf(await viaProxy('crossDomain'))
      // It came through the proxy, carrying the cross-domain leaf, and core refused it.
      expect(body.peerAddress).toBe(PROXY_SOURCE)
      expect(body.headers[k.header]).toEqual([encoded('crossDomain')])
      expect(body).toMatchObject({ ok: false, status: 401, code: 'ERR_X509_SVID_UNTRUSTED' })
    })

    it('refuses a certificate of a trust domain the application has no bundle for', async () => {
      const body = bodyOf(await viaProxy('stranger'))
      expect(body.peerAddress).toBe(PROXY_SOURCE)
      expect(body.headers[k.header]).toEqual([encoded('stranger')])
      expect(body).toMatchObject({ ok: false, status: 401, code: 'ERR_X509_SVID_NO_BUNDLE' })
    })

    it('never reaches the application without a client certificate', async () => {
      const outcome = await viaProxy(undefined)
      // nginx answers 400 itself; HAProxy aborts the handshake. Either way the application never saw it.
      if (outcome.kind === 'response') {
        expect(outcome.json).toBeUndefined()
        expect(outcome.status).toBe(400)
      } else {
        expect(outcome.error).toMatch(/certificate|ECONNRESET|socket hang up|alert/i)
      }
    })
  })
}
