// Micro-benchmark: what `verifyCaller` + a policy decision costs per request, per channel, as a ratio
// to the bare verification underneath (the number a hand-written check would pay anyway).
//
//   node scripts/build.mjs            # the bench imports the built packages (dist/esm)
//   node bench/micro/caller.mjs       # [--runs 5]
//
// Method (shared/reference/perf-anchors.md): mitata, one process per run, 5 runs by default; the
// headline is the median of the per-run p50s; the ratio divides by the bare row of the same channel.
// Every request uses header strings freshly copied out of a Buffer, as an HTTP server would hand them.
//
// Channels and their bare verification:
// - mtls: the peer chain is verified once per connection and remembered per socket, so a request on a
//   kept-alive connection costs a WeakMap lookup + policy; bare = verifyX509Svid of the chain (what a
//   per-request check would pay). The "first request on a connection" row pays the verification.
// - xfcc: bare = the XFCC extractor alone (trusted peer, parse, element selection).
// - jwt (cache off): bare = verifyJwtSvid; jwt (cache warm): bare = the verifier with its cache warm.
// - oidc: bare = the OIDC verifier alone (keys cached after the first fetch, asynchronous).
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const runs = Number(args[args.indexOf('--runs') + 1] || 5)

if (args.includes('--worker')) await worker()
else driver()

async function worker() {
  const { bench, do_not_optimize, run } = await import('mitata')
  const { createServer } = await import('node:https')
  const { generateKeyPairSync } = await import('node:crypto')
  const { SignJWT } = await import('jose')
  const { createCallerVerifier } = await import('@svidkit/core/caller')
  const { createJwtSvidVerifier, verifyJwtSvid } = await import('@svidkit/core/jwt-svid')
  const { createOidcVerifier } = await import('@svidkit/core/oidc')
  const { createPolicyAuthorizer, definePolicy } = await import('@svidkit/core/policy')
  const { verifyX509Svid } = await import('@svidkit/core/x509-svid')
  const { createXfccExtractor, formatXfcc } = await import('@svidkit/core/xfcc')
  const { TestCA } = await import('@svidkit/testing')

  const ca = await TestCA.create({ trustDomain: 'example.org' })
  const bundles = ca.bundleSet()
  const self = 'spiffe://example.org/tenant/acme/ns/shop/sa/orders'
  const callerPath = '/tenant/acme/ns/shop/sa/web'
  const svid = await ca.issueX509Svid({ id: callerPath, ttlSeconds: 86_400 })
  const audience = self
  const token = await ca.mintJwtSvid({ subject: callerPath, audience, ttlSeconds: 86_400 })
  const operation = { kind: 'http', method: 'GET', path: '/orders/42' }
  const identityTemplates = ['/tenant/{tenant}/ns/{namespace}/sa/{serviceAccount}']
  // A realistic small policy: a boundary DENY, a few ALLOWs, an AUDIT rule.
  const policy = createPolicyAuthorizer(
    definePolicy({
      identity: { template: identityTemplates[0] },
      rules: [
        {
          id: 'tenant-isolation',
          action: 'DENY',
          from: [{ channels: ['mtls', 'xfcc', 'jwt'] }],
          boundary: { tenant: { notSameAs: 'self' } },
        },
        { id: 'no-export', action: 'DENY', to: [{ paths: ['/orders/export'] }] },
        { id: 'audit-admin', action: 'AUDIT', to: [{ paths: ['/admin/{**}'] }] },
        {
          id: 'web-reads',
          from: [{ principals: ['spiffe://example.org/tenant/{*}/ns/shop/sa/web'] }],
          to: [{ methods: ['GET'], paths: ['/orders', '/orders/{*}'] }],
        },
        {
          id: 'web-writes',
          to: [{ methods: ['POST'], paths: ['/orders'] }],
          scopes: { allOf: ['orders:write'] },
        },
        { id: 'ops', from: [{ principals: ['spiffe://example.org/tenant/{*}/ns/ops/sa/{*}'] }] },
        {
          id: 'oidc-users',
          from: [{ requestPrincipals: [{ iss: '*', sub: '*' }] }],
          to: [{ methods: ['GET'] }],
        },
      ],
    }),
  )
  const base = { bundles, self, identityTemplates, authorizer: policy, audit: false }

  // mtls: socket-like peers. A TLS socket hands out a new X509Certificate object per connection
  // (getPeerX509Certificate); the pool gives each "connection" its own object of the same leaf, built
  // outside the timed loop, as Node builds it from the TLS session.
  const { X509Certificate } = await import('node:crypto')
  const pool = Array.from({ length: 4096 }, () => new X509Certificate(svid.certificates[0].raw))
  let next = 0
  const socketOf = () => {
    const leaf = pool[next++ % pool.length]
    return { encrypted: true, getPeerX509Certificate: () => leaf }
  }
  const mtls = createCallerVerifier({ ...base })
  const keptAlive = socketOf()
  mtls.verifyCaller({ operation, socket: keptAlive })

  // xfcc
  const xfccHeader = Buffer.from(
    formatXfcc([
      {
        by: [self],
        hash: ['3b5a0d4e6c2f1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e'],
        subject: [''],
        uri: [`spiffe://example.org${callerPath}`],
      },
    ]),
  )
  const xfccBare = createXfccExtractor({ by: self })
  const xfcc = createCallerVerifier({ ...base, mtls: false, xfcc: { by: self } })

  // jwt
  const bearer = Buffer.from(`Bearer ${token}`, 'latin1')
  const jwtCold = createCallerVerifier({ ...base, mtls: false, jwt: { audience, cache: false } })
  const jwtWarm = createCallerVerifier({ ...base, mtls: false, jwt: { audience } })
  const warmBare = createJwtSvidVerifier({ bundles, audience })

  // oidc: a local HTTPS issuer on the test CA
  const web = await ca.issueWebCertificate({ ipAddresses: ['127.0.0.1'] })
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const server = createServer({ key: web.privateKeyPem, cert: web.certificatesPem }, (_req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(
      JSON.stringify({
        keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'ES256' }],
      }),
    )
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const iss = `https://127.0.0.1:${server.address().port}`
  const issuer = {
    issuer: iss,
    jwksUri: `${iss}/jwks`,
    audience: 'orders',
    algorithms: ['ES256'],
    ca: ca.x509Bundle().toPem(),
  }
  const oidcToken = await new SignJWT({
    sub: 'user-1',
    aud: 'orders',
    iss,
    exp: Math.floor(Date.now() / 1000) + 86_400,
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .sign(privateKey)
  const oidcBearer = Buffer.from(`Bearer ${oidcToken}`, 'latin1')
  const oidcBare = createOidcVerifier([issuer])
  const oidc = createCallerVerifier({ ...base, mtls: false, oidc: { issuers: [issuer] } })
  await oidcBare.verify(oidcToken)
  await oidc.verifyCaller({ operation, authorization: `Bearer ${oidcToken}` })

  const expectAllowed = async (r) => {
    const v = await r
    if (v.decision?.decision !== 'allow')
      throw new Error(`bench setup: not allowed: ${JSON.stringify(v.decision)}`)
  }
  await expectAllowed(xfcc.verifyCaller({ operation, xfcc: xfccHeader.toString(), peerAddress: '127.0.0.1' }))
  await expectAllowed(jwtCold.verifyCaller({ operation, authorization: bearer.toString('latin1') }))
  await expectAllowed(mtls.verifyCaller({ operation, socket: keptAlive }))

  bench('mtls bare: verifyX509Svid of the peer chain', () =>
    do_not_optimize(verifyX509Svid(svid.certificates, bundles)),
  )
  bench('mtls: verifyCaller + policy, first request on a connection (reconnecting client)', () =>
    do_not_optimize(mtls.verifyCaller({ operation, socket: socketOf() })),
  )
  bench('mtls: verifyCaller + policy, kept-alive connection', () =>
    do_not_optimize(mtls.verifyCaller({ operation, socket: keptAlive })),
  )
  bench('xfcc bare: extractor.extract', () =>
    do_not_optimize(xfccBare.extract({ header: xfccHeader.toString(), peerAddress: '127.0.0.1' })),
  )
  bench('xfcc: verifyCaller + policy', () =>
    do_not_optimize(xfcc.verifyCaller({ operation, xfcc: xfccHeader.toString(), peerAddress: '127.0.0.1' })),
  )
  bench('jwt bare: verifyJwtSvid', () =>
    do_not_optimize(verifyJwtSvid(bearer.toString('latin1', 7), bundles, { audience })),
  )
  bench('jwt: verifyCaller + policy, cache off', () =>
    do_not_optimize(jwtCold.verifyCaller({ operation, authorization: bearer.toString('latin1') })),
  )
  bench('jwt bare: cached verifier hit', () => do_not_optimize(warmBare.verify(bearer.toString('latin1', 7))))
  bench('jwt: verifyCaller + policy, cache warm', () =>
    do_not_optimize(jwtWarm.verifyCaller({ operation, authorization: bearer.toString('latin1') })),
  )
  bench('oidc bare: oidc.verify (keys cached)', async () =>
    do_not_optimize(await oidcBare.verify(oidcBearer.toString('latin1', 7))),
  )
  bench('oidc: verifyCaller + policy', async () =>
    do_not_optimize(await oidc.verifyCaller({ operation, authorization: oidcBearer.toString('latin1') })),
  )
  const result = await run({ format: 'quiet', throw: true })
  const out = {}
  for (const t of result.benchmarks) out[t.alias] = t.runs[0].stats.p50
  server.close()
  process.stdout.write(JSON.stringify(out))
}

function driver() {
  const self = fileURLToPath(import.meta.url)
  const perRun = []
  for (let i = 0; i < runs; i++) {
    perRun.push(
      JSON.parse(
        execFileSync(process.execPath, [self, '--worker'], { encoding: 'utf8', maxBuffer: 1 << 24 }),
      ),
    )
    process.stderr.write(`run ${i + 1}/${runs} done\n`)
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  }
  const rows = Object.keys(perRun[0])
  const med = Object.fromEntries(rows.map((r) => [r, median(perRun.map((p) => p[r]))]))
  const fmt = (ns) => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${Math.round(ns)} ns`)
  const bare = {
    mtls: 'mtls bare: verifyX509Svid of the peer chain',
    xfcc: 'xfcc bare: extractor.extract',
    oidc: 'oidc bare: oidc.verify (keys cached)',
  }
  const baseOf = (row) => {
    if (row.startsWith('jwt: verifyCaller + policy, cache off')) return 'jwt bare: verifyJwtSvid'
    if (row.startsWith('jwt: verifyCaller + policy, cache warm')) return 'jwt bare: cached verifier hit'
    return bare[row.split(':')[0]]
  }
  const lines = [
    `| row | median of per-run p50 (${runs} runs) | range | × bare | + over bare |`,
    '| --- | ---: | --- | ---: | ---: |',
  ]
  for (const r of rows) {
    const vals = perRun.map((p) => p[r])
    const b = baseOf(r)
    const isBare = r.includes(' bare:')
    lines.push(
      `| ${r} | ${fmt(med[r])} | ${fmt(Math.min(...vals))}–${fmt(Math.max(...vals))} | ${isBare ? '1.00' : (med[r] / med[b]).toFixed(2)} | ${isBare ? '—' : fmt(med[r] - med[b])} |`,
    )
  }
  console.log(lines.join('\n'))
}
