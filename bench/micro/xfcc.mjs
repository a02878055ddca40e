// Micro-benchmark: XFCC parse and caller extraction per request, against the naive check most
// hand-written middleware does (`/URI=([^;,]+)/` + `Set.has`, perf-anchors.md §3: about 0.24 µs).
//
// Method (shared/reference/perf-anchors.md): mitata, one process per run, 5 runs by default; the
// headline is the median of the per-run p50s, the range is the min–max of those p50s, and the ratio
// divides by the naive-regex row of the same group (of the medians, and the median of per-run ratios).
//
//   pnpm exec tsc -b                 # the bench imports the built packages (dist/esm)
//   node bench/micro/xfcc.mjs        # [--runs 5] [--filter <regex>] [--json results.json] [--no-ab]
//
// After the mitata runs, one more process alternates the main contenders in blocks timed in process
// CPU time (supplementary: on a shared machine it is the number least moved by other tenants).
//
// The header is the one-hop Envoy/Istio shape of perf-anchors.md (By, Hash, Subject, URI). Every
// iteration copies its header out of a Buffer, as Node's HTTP parser hands a new string to each
// request, so no row benefits from a string hash V8 cached on an earlier iteration; the copy alone
// is measured as its own row (it is inside every other row too).
// - "distinct headers": 1024 headers that differ in Hash (as after certificate rotation or across
//   many clients) and name 16 callers, cycled, so the extractor's memo of recent headers never hits:
//   every request pays the full parse + selection. One row also makes every URI distinct.
// - "repeated header": the same header content on every request (what a proxy sends for one client),
//   so the extractor's memo hits.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const arg = (name, fallback) => {
  const i = args.indexOf(name)
  return i === -1 ? fallback : args[i + 1]
}

const BY = 'spiffe://example.org/ns/default/sa/server'
const POOL = 1024
const CALLERS = 16

if (args.includes('--worker')) await worker(new RegExp(arg('--filter', '.*')))
else if (args.includes('--ab-worker')) await abWorker()
else
  driver(
    Number(arg('--runs', '5')),
    arg('--filter', '.*'),
    arg('--json', undefined),
    !args.includes('--no-ab'),
  )

function header(uri, hash) {
  return `By=${BY};Hash=${hash};Subject="CN=client,O=Example";URI=${uri}`
}

/** The inputs and contenders shared by the mitata worker and the CPU-time A/B worker. */
async function setup() {
  const { createXfccExtractor, parseXfcc } = await import('@svidkit/core/xfcc')
  const callers = Array.from({ length: CALLERS }, (_, i) => `spiffe://example.org/ns/default/sa/client-${i}`)
  const distinct = Array.from({ length: POOL }, (_, i) =>
    Buffer.from(header(callers[i % CALLERS], randomBytes(32).toString('hex')), 'latin1'),
  )
  const distinctUris = Array.from({ length: POOL }, (_, i) =>
    Buffer.from(
      header(`spiffe://example.org/ns/default/sa/client-${i}`, randomBytes(32).toString('hex')),
      'latin1',
    ),
  )
  const repeated = distinct[0]
  let k = 0
  const nextDistinct = () => {
    k = (k + 1) & (POOL - 1)
    return distinct[k].toString('latin1')
  }
  const nextDistinctUri = () => {
    k = (k + 1) & (POOL - 1)
    return distinctUris[k].toString('latin1')
  }
  const sameAgain = () => repeated.toString('latin1')

  // The naive check (perf-anchors.md): first `URI=` anywhere, then an allowlist lookup.
  const URI = /URI=([^;,]+)/
  const allowed = new Set(callers)
  const naive = (h) => {
    const m = URI.exec(h)
    return m !== null && allowed.has(m[1])
  }
  // What svidkit does per request: trusted peer, parse, last element, By, one SPIFFE-ID URI.
  const extractor = createXfccExtractor({ by: BY })
  const extract = (h) => extractor.extract({ header: h, peerAddress: '127.0.0.1' })
  const extractLines = (lines) => extractor.extract({ header: lines, peerAddress: '127.0.0.1' })

  // Every contender must accept its input before it is timed.
  for (let i = 0; i < POOL; i++) {
    const h = distinct[i].toString('latin1')
    check(naive(h), 'naive regex')
    check(parseXfcc(h)[0].uri[0] === callers[i % CALLERS], 'parseXfcc')
    check(extract(h).caller.toString() === callers[i % CALLERS], 'extractor')
    const u = distinctUris[i].toString('latin1')
    check(extract(u).caller.toString() === `spiffe://example.org/ns/default/sa/client-${i}`, 'distinct URIs')
  }
  check(extractLines([distinct[1].toString('latin1'), '']).caller.toString() === callers[1], 'two lines')
  return {
    parseXfcc,
    naive,
    extract,
    extractLines,
    nextDistinct,
    nextDistinctUri,
    sameAgain,
    headerBytes: repeated.length,
  }
}

async function worker(filter) {
  const { bench, do_not_optimize, run } = await import('mitata')
  const { parseXfcc, naive, extract, nextDistinct, nextDistinctUri, sameAgain, headerBytes } = await setup()

  const labels = {}
  const contenders = []
  const add = (group, name, fn) => {
    labels[name] = group
    contenders.push(fn)
    bench(name, fn)
  }
  const D = 'distinct headers'
  add(D, 'naive: /URI=([^;,]+)/ + Set.has', () => do_not_optimize(naive(nextDistinct())))
  add(D, 'parseXfcc', () => do_not_optimize(parseXfcc(nextDistinct())))
  add(D, 'createXfccExtractor().extract (memo miss, 16 callers)', () =>
    do_not_optimize(extract(nextDistinct())),
  )
  add(D, 'createXfccExtractor().extract (memo miss, every URI new)', () =>
    do_not_optimize(extract(nextDistinctUri())),
  )
  add(D, 'header copy only (Buffer → string, in every row)', () => do_not_optimize(nextDistinct()))
  const R = 'repeated header'
  add(R, 'naive: /URI=([^;,]+)/ + Set.has (repeated)', () => do_not_optimize(naive(sameAgain())))
  add(R, 'parseXfcc (repeated)', () => do_not_optimize(parseXfcc(sameAgain())))
  add(R, 'createXfccExtractor().extract (repeated: memo hit)', () => do_not_optimize(extract(sameAgain())))
  add(R, 'header copy only (repeated)', () => do_not_optimize(sameAgain()))

  for (const fn of contenders) for (let i = 0; i < 5000; i++) fn()

  const { benchmarks } = await run({ format: 'quiet', throw: true, filter })
  const out = {}
  for (const b of benchmarks) {
    const stats = b.runs[0].stats
    out[b.alias] = { group: labels[b.alias], p50: stats.p50, avg: stats.avg }
  }
  process.stdout.write(`${JSON.stringify({ headerBytes, rows: out })}\n`)
}

// Supplementary, for a shared machine: the contenders alternate in blocks timed in process CPU time
// (time spent descheduled by other tenants does not count); 31 rounds, each row divided by the naive
// block of the same round.
async function abWorker() {
  const { parseXfcc, naive, extract, extractLines, nextDistinct, sameAgain } = await setup()
  const n = 20_000
  let sink = 0
  const blocks = {
    'naive, distinct headers': () => {
      for (let i = 0; i < n; i++) if (naive(nextDistinct())) sink++
    },
    'parseXfcc, distinct headers': () => {
      for (let i = 0; i < n; i++) sink += parseXfcc(nextDistinct()).length
    },
    'extract, distinct headers (memo miss)': () => {
      for (let i = 0; i < n; i++) if (extract(nextDistinct())) sink++
    },
    // Diagnostic: the extractor only memoises a header given as one string (or one line), so two
    // lines (the second blank, no element) run the same parse and selection without the memo.
    'extract, distinct headers, memo bypassed (2 lines)': () => {
      for (let i = 0; i < n; i++) if (extractLines([nextDistinct(), ''])) sink++
    },
    'naive, repeated header': () => {
      for (let i = 0; i < n; i++) if (naive(sameAgain())) sink++
    },
    'extract, repeated header (memo hit)': () => {
      for (let i = 0; i < n; i++) if (extract(sameAgain())) sink++
    },
  }
  // Each block pays for collecting its own garbage (a minor GC at its end, inside the timing), so an
  // allocating block does not leave its collection to the block after it.
  const minorGc = () => globalThis.gc({ type: 'minor', execution: 'sync' })
  const cpu = (fn) => {
    minorGc()
    const start = process.cpuUsage()
    fn()
    minorGc()
    const d = process.cpuUsage(start)
    return ((d.user + d.system) * 1000) / n
  }
  const names = Object.keys(blocks)
  for (let r = 0; r < 3; r++) for (const name of names) cpu(blocks[name])
  const times = Object.fromEntries(names.map((name) => [name, []]))
  for (let r = 0; r < 31; r++) for (const name of names) times[name].push(cpu(blocks[name]))
  const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1]
  const out = {}
  for (const name of names) {
    const base = times[name.includes('repeated') ? 'naive, repeated header' : 'naive, distinct headers']
    out[name] = { ns: med(times[name]), paired: med(times[name].map((t, i) => t / base[i])) }
  }
  if (sink === 0) throw new Error('nothing was computed')
  process.stdout.write(`${JSON.stringify(out)}\n`)
}

function check(ok, what) {
  if (!ok) throw new Error(`bench sanity check failed: ${what}`)
}

function driver(runs, filter, jsonPath, ab) {
  const self = fileURLToPath(import.meta.url)
  const results = []
  let headerBytes = 0
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`run ${i + 1}/${runs}…\n`)
    const stdout = execFileSync(process.execPath, [self, '--worker', '--filter', filter], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const r = JSON.parse(stdout.trim().split('\n').at(-1))
    headerBytes = r.headerBytes
    results.push(r.rows)
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  }
  const names = Object.keys(results[0])
  // The baseline of a group is its first row (the naive regex).
  const baselineName = {}
  for (const name of names) baselineName[results[0][name].group] ??= name
  const rows = names.map((name) => {
    const group = results[0][name].group
    const p50s = results.map((r) => r[name].p50)
    return {
      name,
      group,
      median: median(p50s),
      min: Math.min(...p50s),
      max: Math.max(...p50s),
      p50s,
      paired: median(results.map((r) => r[name].p50 / r[baselineName[group]].p50)),
    }
  })
  const baseline = {}
  for (const r of rows) baseline[r.group] ??= r.median
  const fmt = (ns) => Math.round(ns).toLocaleString('en-US')
  const lines = [
    `| ${'operation'} | ns/op (median of ${runs} p50s) | range of the p50s | × naive (of medians) | × naive (paired, median of per-run ratios) |`,
    '|---|---:|---|---:|---:|',
  ]
  let group
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group
      lines.push(`| **${group}** | | | | |`)
    }
    lines.push(
      `| ${r.name} | ${fmt(r.median)} | ${fmt(r.min)}–${fmt(r.max)} | ${(r.median / baseline[r.group]).toFixed(2)} | ${r.paired.toFixed(2)} |`,
    )
  }
  lines.push(
    '',
    `| per-run p50 (ns) | ${results.map((_, i) => `run ${i + 1}`).join(' | ')} |`,
    `|---|${'---:|'.repeat(runs)}`,
  )
  for (const r of rows) lines.push(`| ${r.name} | ${r.p50s.map(fmt).join(' | ')} |`)
  process.stdout.write(`${lines.join('\n')}\n`)
  process.stdout.write(
    `\nNode ${process.version}, ${runs} runs (one process each), mitata 1.0.34, header ${headerBytes} B.\n`,
  )
  let abResult
  if (ab) {
    process.stderr.write('interleaved CPU-time A/B…\n')
    const stdout = execFileSync(process.execPath, ['--expose-gc', self, '--ab-worker'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    abResult = JSON.parse(stdout.trim().split('\n').at(-1))
    const abLines = [
      '',
      '| interleaved A/B, process CPU time (31 rounds of 20,000) | ns/op (median) | × naive of the same round (median) |',
      '|---|---:|---:|',
    ]
    for (const [name, r] of Object.entries(abResult)) {
      abLines.push(`| ${name} | ${fmt(r.ns)} | ${r.paired.toFixed(2)} |`)
    }
    process.stdout.write(`${abLines.join('\n')}\n`)
  }
  if (jsonPath) {
    const data = { node: process.version, headerBytes, runs: results, rows, ab: abResult }
    writeFileSync(jsonPath, `${JSON.stringify(data, null, 2)}\n`)
  }
}
