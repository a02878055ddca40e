// Micro-benchmark: JWT-SVID and X.509-SVID verification against the node:crypto floor and peers.
//
// Method (shared/reference/perf-anchors.md): mitata, one process per run, 5 runs by default; the
// headline is the median of the per-run p50s, the range is the min–max of those p50s, and the ratio
// divides by the raw node:crypto row of the same algorithm.
//
//   pnpm exec tsc -b                 # the bench imports the built packages (dist/esm)
//   node bench/micro/verify.mjs      # [--runs 5] [--filter <regex>] [--json results.json] [--no-ab]
//
// After the mitata runs, one more process alternates raw verify and verifyJwtSvid in blocks timed in
// process CPU time (supplementary: on a shared machine it is the number least moved by other tenants).
//
// Every token-based row gets a fresh token string per iteration (copied out of a Buffer, as an HTTP
// header would be), so no row benefits from a string hash V8 cached on a previous iteration. The raw
// rows verify a precomputed signing input and signature with a pre-imported KeyObject.
import { execFileSync } from 'node:child_process'
import { verify as cryptoVerify } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const arg = (name, fallback) => {
  const i = args.indexOf(name)
  return i === -1 ? fallback : args[i + 1]
}

if (args.includes('--worker')) await worker(new RegExp(arg('--filter', '.*')))
else if (args.includes('--ab-worker')) await abWorker()
else
  driver(
    Number(arg('--runs', '5')),
    arg('--filter', '.*'),
    arg('--json', undefined),
    !args.includes('--no-ab'),
  )

// Rows: [group, label, baseline?]. The group's baseline is the ratio's denominator.
async function worker(filter) {
  const { bench, do_not_optimize, run } = await import('mitata')
  const jose = await import('jose')
  const { createVerifier } = await import('fast-jwt')
  const { createJwtSvidVerifier, verifyJwtSvid } = await import('@svidkit/core/jwt-svid')
  const { verifyX509Svid } = await import('@svidkit/core/x509-svid')
  const { TestCA } = await import('@svidkit/testing')

  const audience = 'spiffe://example.org/ns/default/sa/server'
  const subject = '/ns/default/sa/client'
  const labels = {}
  const contenders = []
  const add = (group, name, fn) => {
    labels[name] = group
    contenders.push(fn)
    bench(name, fn)
  }

  for (const [alg, jwtKeyType] of [
    ['ES256', 'ec-p256'],
    ['RS256', 'rsa-2048'],
  ]) {
    const ca = await TestCA.create({ trustDomain: 'example.org', jwtKeyType })
    const token = await ca.mintJwtSvid({ subject, audience: [audience], ttlSeconds: 30 * 86_400 })
    const bundles = ca.bundleSet()
    const header = Buffer.from(`Bearer ${token}`, 'latin1')
    const fresh = () => header.toString('latin1', 7)
    const [h, p, s] = token.split('.')
    const input = Buffer.from(`${h}.${p}`, 'latin1')
    const signature = Buffer.from(s, 'base64url')
    const authority = bundles.getJwtBundleForTrustDomain(ca.trustDomain).findAuthority(ca.jwtKeyId)
    const rawKey =
      alg === 'ES256' ? { key: authority.publicKey, dsaEncoding: 'ieee-p1363' } : authority.publicKey
    const cached = createJwtSvidVerifier({ bundles, audience })
    const uncachedVerifier = createJwtSvidVerifier({ bundles, audience, cache: false })
    const joseKey = await jose.importJWK({ ...authority.jwk, alg }, alg)
    const joseOptions = { audience, algorithms: [alg], requiredClaims: ['exp'] }
    const pem = authority.publicKey.export({ format: 'pem', type: 'spki' })
    const fastNoCache = createVerifier({ key: pem, algorithms: [alg], allowedAud: audience, cache: false })
    const fastCache = createVerifier({ key: pem, algorithms: [alg], allowedAud: audience, cache: true })

    // Every contender must accept the token before it is timed.
    const sub = `spiffe://example.org${subject}`
    check(cryptoVerify('sha256', input, rawKey, signature), `${alg} raw`)
    check(verifyJwtSvid(fresh(), bundles, { audience }).id.toString() === sub, `${alg} verifyJwtSvid`)
    const first = cached.verify(fresh())
    check(cached.verify(fresh()) === first, `${alg} cache hit`)
    check(uncachedVerifier.verify(fresh()).id.toString() === sub, `${alg} verifier without cache`)
    check((await jose.jwtVerify(fresh(), joseKey, joseOptions)).payload.sub === sub, `${alg} jose`)
    check(fastNoCache(fresh()).sub === sub && fastCache(fresh()).sub === sub, `${alg} fast-jwt`)

    add(alg, `${alg} node:crypto.verify (raw, precomputed input, KeyObject)`, () =>
      do_not_optimize(cryptoVerify('sha256', input, rawKey, signature)),
    )
    add(alg, `${alg} verifyJwtSvid (uncached)`, () =>
      do_not_optimize(verifyJwtSvid(fresh(), bundles, { audience })),
    )
    add(alg, `${alg} createJwtSvidVerifier, cache: false`, () =>
      do_not_optimize(uncachedVerifier.verify(fresh())),
    )
    add(alg, `${alg} createJwtSvidVerifier, cache hit`, () => do_not_optimize(cached.verify(fresh())))
    add(alg, `${alg} jose.jwtVerify (imported key, async WebCrypto)`, async () =>
      do_not_optimize(await jose.jwtVerify(fresh(), joseKey, joseOptions)),
    )
    add(alg, `${alg} fast-jwt createVerifier (no cache)`, () => do_not_optimize(fastNoCache(fresh())))
    add(alg, `${alg} fast-jwt createVerifier (cache: true, hit)`, () => do_not_optimize(fastCache(fresh())))
  }

  {
    const ca = await TestCA.create({ trustDomain: 'example.org' })
    const svid = await ca.issueX509Svid({ id: subject })
    const chain = svid.certificates
    const leaf = chain[0]
    const rootKey = ca.certificate.publicKey
    const bundle = ca.x509Bundle()
    check(leaf.verify(rootKey), 'X.509 raw')
    check(verifyX509Svid(chain, bundle).id.toString() === `spiffe://example.org${subject}`, 'verifyX509Svid')
    add('X.509', 'X.509 X509Certificate.verify (raw, P-256 leaf, root key)', () =>
      do_not_optimize(leaf.verify(rootKey)),
    )
    add('X.509', 'X.509 verifyX509Svid (leaf + root bundle, parsed certificates)', () =>
      do_not_optimize(verifyX509Svid(chain, bundle)),
    )
  }

  // Warm every contender up before the first measurement, so shared code (the JWS parser) is
  // optimised for all its callers and no row pays for JIT tiering on behalf of the rows after it.
  for (const fn of contenders) for (let i = 0; i < 300; i++) await fn()

  const { benchmarks } = await run({ format: 'quiet', throw: true, filter })
  const out = {}
  for (const b of benchmarks) {
    const stats = b.runs[0].stats
    out[b.alias] = { group: labels[b.alias], p50: stats.p50, avg: stats.avg }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`)
}

// Supplementary, for a shared machine: raw verify and verifyJwtSvid alternate in blocks, timed in
// process CPU time (time spent descheduled by other tenants does not count); 31 pairs per algorithm.
async function abWorker() {
  const { verifyJwtSvid } = await import('@svidkit/core/jwt-svid')
  const { TestCA } = await import('@svidkit/testing')
  const audience = 'spiffe://example.org/ns/default/sa/server'
  const out = {}
  for (const [alg, jwtKeyType, n] of [
    ['ES256', 'ec-p256', 300],
    ['RS256', 'rsa-2048', 800],
  ]) {
    const ca = await TestCA.create({ trustDomain: 'example.org', jwtKeyType })
    const token = await ca.mintJwtSvid({
      subject: '/ns/default/sa/client',
      audience: [audience],
      ttlSeconds: 86_400,
    })
    const bundles = ca.bundleSet()
    const header = Buffer.from(`Bearer ${token}`, 'latin1')
    const fresh = () => header.toString('latin1', 7)
    const [h, p, s] = token.split('.')
    const input = Buffer.from(`${h}.${p}`, 'latin1')
    const signature = Buffer.from(s, 'base64url')
    const key = bundles.getJwtBundleForTrustDomain(ca.trustDomain).findAuthority(ca.jwtKeyId).publicKey
    const rawKey = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key
    const raw = () => cryptoVerify('sha256', input, rawKey, signature)
    const ours = () => verifyJwtSvid(fresh(), bundles, { audience })
    const cpu = (fn) => {
      const start = process.cpuUsage()
      for (let i = 0; i < n; i++) fn()
      const d = process.cpuUsage(start)
      return ((d.user + d.system) * 1000) / n
    }
    for (let i = 0; i < 3; i++) {
      cpu(raw)
      cpu(ours)
    }
    const a = []
    const b = []
    for (let k = 0; k < 31; k++) {
      a.push(cpu(raw))
      b.push(cpu(ours))
    }
    const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1]
    out[alg] = {
      raw: med(a),
      ours: med(b),
      paired: med(a.map((x, i) => b[i] / x)),
      minRatio: Math.min(...b) / Math.min(...a),
    }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`)
}

function check(ok, what) {
  if (!ok) throw new Error(`bench sanity check failed: ${what}`)
}

function driver(runs, filter, jsonPath, ab) {
  const self = fileURLToPath(import.meta.url)
  const results = []
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`run ${i + 1}/${runs}…\n`)
    const stdout = execFileSync(process.execPath, [self, '--worker', '--filter', filter], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    results.push(JSON.parse(stdout.trim().split('\n').at(-1)))
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  }
  const names = Object.keys(results[0])
  // The baseline of a group is its first row (raw node:crypto / raw X509Certificate.verify).
  const baselineName = {}
  for (const name of names) baselineName[results[0][name].group] ??= name
  const rows = names.map((name) => {
    const group = results[0][name].group
    const p50s = results.map((r) => r[name].p50)
    const paired = results.map((r) => r[name].p50 / r[baselineName[group]].p50)
    return {
      name,
      group,
      median: median(p50s),
      min: Math.min(...p50s),
      max: Math.max(...p50s),
      p50s,
      paired: median(paired),
    }
  })
  const baseline = {}
  for (const r of rows) baseline[r.group] ??= r.median
  const fmt = (ns) => Math.round(ns).toLocaleString('en-US')
  const lines = [
    `| operation | ns/op (median of ${runs} p50s) | range of the p50s | × raw (of medians) | × raw (paired, median of per-run ratios) |`,
    '|---|---:|---|---:|---:|',
  ]
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${fmt(r.median)} | ${fmt(r.min)}–${fmt(r.max)} | ${(r.median / baseline[r.group]).toFixed(2)} | ${r.paired.toFixed(3)} |`,
    )
  }
  lines.push(
    '',
    `| per-run p50 (ns) | ${results.map((_, i) => `run ${i + 1}`).join(' | ')} |`,
    `|---|${'---:|'.repeat(runs)}`,
  )
  for (const r of rows) lines.push(`| ${r.name} | ${r.p50s.map(fmt).join(' | ')} |`)
  process.stdout.write(`${lines.join('\n')}\n`)
  process.stdout.write(`\nNode ${process.version}, ${runs} runs (one process each), mitata 1.0.34.\n`)
  let abResult
  if (ab) {
    process.stderr.write('interleaved CPU-time A/B…\n')
    const stdout = execFileSync(process.execPath, [self, '--ab-worker'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    abResult = JSON.parse(stdout.trim().split('\n').at(-1))
    const abLines = [
      '',
      '| interleaved A/B, process CPU time (31 pairs) | raw ns/op | verifyJwtSvid ns/op | × raw (median of pairs) | × raw (min / min) |',
      '|---|---:|---:|---:|---:|',
    ]
    for (const [alg, r] of Object.entries(abResult)) {
      abLines.push(
        `| ${alg} | ${fmt(r.raw)} | ${fmt(r.ours)} | ${r.paired.toFixed(3)} | ${r.minRatio.toFixed(3)} |`,
      )
    }
    process.stdout.write(`${abLines.join('\n')}\n`)
  }
  if (jsonPath) {
    const data = { node: process.version, runs: results, rows, ab: abResult }
    writeFileSync(jsonPath, `${JSON.stringify(data, null, 2)}\n`)
  }
}
