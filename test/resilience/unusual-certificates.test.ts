// Legal but unusual X.509-SVIDs (issue 12): an empty subject DN with a critical URI SAN (as Istio
// issues them), an issuer DN without a CN, very long SANs, UTF-8 DNs. Each goes through every CLI
// command that shows a certificate (x509 verify, bundle, xfcc, fetch x509 against a dev agent), in JSON
// and in text, and through the caller pipeline with its audit log. `x509 verify --json` used to answer
// ERR_INTERNAL for the empty subject (Node's X509Certificate.subject is undefined then).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { main } from '@svidkit/cli'
import { createCallerVerifier } from '@svidkit/core/caller'
import { formatXfcc } from '@svidkit/core/xfcc'
import { DevAgent, TestCA, type TestX509Svid } from '@svidkit/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { capture } from './harness/capture.js'

interface Shape {
  readonly name: string
  readonly ca: TestCA
  readonly svid: TestX509Svid
  /** The DNs `x509 verify --json` must show for the leaf. */
  readonly subject: string
  readonly issuer: string
}

let dir: string
const shapes: Shape[] = []
const longPath = `/${Array.from({ length: 30 }, (_, i) => `segment-${i}-${'x'.repeat(50)}`).join('/')}`

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const stdin = new PassThrough()
  stdin.end()
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stdin })
  // Error output goes to the capture (a rejection must never echo a certificate or key). Standard
  // output is each command's result for its user (`xfcc` shows the element it was given, Cert included).
  capture.line('stderr', stderr)
  return { code, stdout, stderr }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svidkit-unusual-'))
  const istioCa = await TestCA.create({ trustDomain: 'cluster.local', subject: 'O=cluster.local' })
  const noCnCa = await TestCA.create({ trustDomain: 'example.org', subject: 'O=Example Org, OU=Mesh' })
  const utf8Ca = await TestCA.create({
    trustDomain: 'example.org',
    subject: 'CN=Zürich Ünïcødé CA, O=例え株式会社',
  })
  const longCa = await TestCA.create({ trustDomain: 'example.org' })
  shapes.push(
    {
      name: 'empty subject, critical URI SAN (Istio)',
      ca: istioCa,
      svid: await istioCa.issueX509Svid({ id: '/ns/default/sa/web', subject: '' }),
      subject: '',
      issuer: 'O=cluster.local',
    },
    {
      name: 'issuer DN without a CN',
      ca: noCnCa,
      svid: await noCnCa.issueX509Svid({ id: '/web' }),
      subject: 'O=svidkit test',
      issuer: 'O=Example Org, OU=Mesh',
    },
    {
      name: 'UTF-8 DNs',
      ca: utf8Ca,
      svid: await utf8Ca.issueX509Svid({ id: '/web', subject: 'CN=ワークロード, O=Ünïcødé' }),
      subject: 'CN=ワークロード, O=Ünïcødé',
      issuer: 'CN=Zürich Ünïcødé CA, O=例え株式会社',
    },
    {
      name: 'very long SANs (a 1.6 KB SPIFFE ID path, 40 long DNS names)',
      ca: longCa,
      svid: await longCa.issueX509Svid({
        id: longPath,
        dnsNames: Array.from({ length: 40 }, (_, i) => `${'d'.repeat(60)}${i}.${'e'.repeat(60)}.example.org`),
      }),
      subject: 'O=svidkit test',
      issuer: 'O=svidkit test CA, CN=example.org',
    },
  )
  for (const [i, s] of shapes.entries()) {
    writeFileSync(join(dir, `svid-${i}.pem`), s.svid.certificatesPem)
    writeFileSync(join(dir, `ca-${i}.pem`), s.ca.certificate.toString())
  }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe.each([0, 1, 2, 3])('unusual certificate %i', (i) => {
  test('svidkit x509 verify (JSON and text)', async () => {
    const s = shapes[i]!
    const td = s.ca.trustDomain.name
    const args = [
      'x509',
      'verify',
      join(dir, `svid-${i}.pem`),
      '--bundle',
      join(dir, `ca-${i}.pem`),
      '--trust-domain',
      td,
    ]
    const json = await cli([...args, '--json'])
    expect(json.code, `${s.name}: ${json.stdout}`).toBe(0)
    const out = JSON.parse(json.stdout) as { spiffeId: string; chain: { subject: string; issuer: string }[] }
    expect(out.spiffeId).toBe(s.svid.id.toString())
    expect(out.chain[0]).toMatchObject({ subject: s.subject, issuer: s.issuer })
    expect(out.chain[1]).toMatchObject({ subject: s.issuer, issuer: s.issuer })
    const text = await cli(args)
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`verified: ${s.svid.id}`)
  })

  test('svidkit bundle (a PEM bundle of the CA)', async () => {
    const s = shapes[i]!
    const r = await cli([
      'bundle',
      join(dir, `ca-${i}.pem`),
      '--trust-domain',
      s.ca.trustDomain.name,
      '--json',
    ])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      format: 'pem',
      trustDomains: [{ x509Authorities: 1 }],
    })
  })

  test('svidkit xfcc (Cert, Hash and Subject as Envoy forwards them)', async () => {
    const s = shapes[i]!
    const leaf = s.svid.certificates[0]!
    const header = formatXfcc([
      {
        by: ['spiffe://example.org/orders'],
        hash: [leaf.fingerprint256.replace(/:/g, '').toLowerCase()],
        cert: [encodeURIComponent(leaf.toString())],
        subject: [s.subject],
        uri: [s.svid.id.toString()],
      },
    ])
    const r = await cli(['xfcc', header, '--json'])
    expect(r.code, r.stdout).toBe(0)
    const out = JSON.parse(r.stdout) as { caller: string; elements: { subject: string[] }[] }
    expect(out.caller).toBe(s.svid.id.toString())
    expect(out.elements[0]!.subject).toEqual([s.subject])
  })

  test('the caller pipeline and its audit log (mTLS peer chain)', async () => {
    const s = shapes[i]!
    const events: string[] = []
    const verifier = createCallerVerifier({
      bundles: s.ca.bundleSet(),
      audit: {
        telemetry: false,
        logger: { info: (o) => events.push(JSON.stringify(o)), warn: (o) => events.push(JSON.stringify(o)) },
      },
      authorizer: { authorize: () => ({ decision: 'allow', rule: 'all', reason: 'test', audit: [] }) },
    })
    const { caller } = await verifier.verifyCaller({
      operation: { kind: 'http', method: 'GET', path: '/' },
      peerCertificates: s.svid.certificates,
    })
    expect(caller?.spiffeId?.toString()).toBe(s.svid.id.toString())
    expect(events).toHaveLength(1)
    expect(JSON.parse(events[0]!)).toMatchObject({
      caller: s.svid.id.toString(),
      channel: 'mtls',
      decision: 'allow',
    })
    for (const e of events) capture.line('audit', e)
  })
})

test('svidkit fetch x509 --write-dir from a dev agent whose CA has a UTF-8 DN, then x509 verify of what it wrote', async () => {
  const utf8 = shapes[2]!
  const agent = await DevAgent.start({
    ca: utf8.ca,
    socketPath: join(dir, 'agent.sock'),
    identities: [{ spiffeId: '/web' }],
  })
  try {
    const out = join(dir, 'out')
    const r = await cli(['fetch', 'x509', '--socket', agent.address, '--write-dir', out, '--json'])
    expect(r.code, r.stdout).toBe(0)
    const v = await cli([
      'x509',
      'verify',
      join(out, 'svid.pem'),
      '--bundle',
      join(out, 'svid_bundle.pem'),
      '--trust-domain',
      'example.org',
      '--json',
    ])
    expect(v.code, v.stdout).toBe(0)
    expect(JSON.parse(v.stdout).chain[1].subject).toBe(utf8.issuer)
    const b = await cli(['fetch', 'bundles', '--socket', agent.address, '--json'])
    expect(b.code).toBe(0)
  } finally {
    await agent.close()
  }
})
