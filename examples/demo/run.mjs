#!/usr/bin/env node
// The svidkit demo (see README.md): starts the dev Workload API agent (`svidkit agent`), four services —
// orders (Fastify, behind nginx), payments (NestJS), ledger (gRPC) and admin (Express) — and nginx,
// makes a series of calls as workloads of two tenants and of a federated partner trust domain, prints
// what the services decided, and tears everything down. Exit code 0 only when every call got the
// expected outcome, so the demo doubles as a smoke test.
//
//   node scripts/build.mjs && node examples/demo/run.mjs      (or: pnpm demo, at the repository root)
//   node examples/demo/run.mjs --no-nginx                        (skips the calls through nginx)
//   node examples/demo/run.mjs --otel                            (spans and metrics, OpenTelemetry console exporters)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JwtSource, X509Source } from '@svidkit/core/workload-api'
import { ALLOWED, REFUSED } from './lib/calls.mjs'
import { send, waitFor } from './lib/client.mjs'
import { findNginx, startNginx } from './lib/nginx.mjs'
import {
  auditLine,
  bold,
  decidedBy,
  dim,
  expectedText,
  green,
  HOW,
  outcomeLine,
  problemsOf,
  red,
  say,
  short,
  yellow,
} from './lib/output.mjs'
import { onTeardown, removeOnExit, teardown, withTimeout } from './lib/processes.mjs'
import { compileTypeScriptServices, startAgent, startService } from './lib/stack.mjs'
import { NGINX_SOURCE_ADDRESS } from './services/service-kit.mjs'

const otel = process.argv.includes('--otel')
const started = Date.now()
const seconds = () => ((Date.now() - started) / 1000).toFixed(1)
const prefixed = (prefix) => (line) => say(dim(`${prefix} ${line}`))

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    say(yellow(`\n${signal}: stopping the agent, the services and nginx…`))
    teardown().finally(() => process.exit(130))
  })
}

const dir = mkdtempSync(join(tmpdir(), 'svidkit-demo-'))
removeOnExit(dir)
// Each service appends its audit events to audit/<service>.jsonl: start this run's logs empty.
rmSync(new URL('audit/', import.meta.url), { recursive: true, force: true })

const SERVICES = [
  ['orders', 'Fastify, policies/orders.yaml'],
  ['payments', 'NestJS (Express), policies/payments.yaml'],
  ['ledger', 'gRPC, policies/ledger.yaml'],
  ['admin', 'Express, policies/admin.yaml'],
]
const CALLERS = ['acme-web', 'globex-web', 'admin-cli', 'partner', 'stranger']

async function startEverything() {
  say(
    bold('svidkit demo: four services on four frameworks, two tenants, a federated partner, one edge proxy'),
  )
  say()
  say(dim('compiling services/payments.ts (tsc -b examples/demo)…'))
  compileTypeScriptServices()
  const { agent, workloads, trustDomain } = await startAgent(dir, prefixed('[agent]'))
  const address = (name) => workloads.get(name).address
  say(dim(`        one socket per workload (agent.yaml): ${[...workloads.keys()].join(', ')}`))
  // nginx is found, or installed with apt-get (test/proxies' helper); `--no-nginx` leaves it out.
  const nginxFound = process.argv.includes('--no-nginx') ? { skip: 'left out (--no-nginx)' } : findNginx()

  const stack = { agent, otel, events: [], notes: [], services: new Map(), callers: new Map() }
  const handlers = {
    onStderr: (service, line) => {
      if (!stopping && line.trim() !== '') say(dim(`[${service.name}] ${line}`))
    },
    onStdout: (service, line) => {
      if (otel) stack.events.push({ service: service.name, otel: line })
    },
    onMessage: (service, m) => {
      if (m?.type === 'audit') stack.events.push({ service: service.name, event: m.event })
      else if (m?.type === 'refused') stack.events.push({ service: service.name, refused: m })
      else if (m?.type === 'rotated') {
        service.serial = m.serial
        stack.notes.push(
          `${service.name} got a new X.509-SVID (serial ${short(m.serial)}) and serves it to new connections`,
        )
      } else if (m?.type === 'otel-flushed') {
        service.flushed = true
      } else if (m?.type === 'bundles') {
        service.trustDomains = m.trustDomains
        stack.notes.push(`${service.name} now has bundles for: ${m.trustDomains.join(', ')}`)
      }
    },
  }
  // With --otel every service starts with services/otel.mjs, which registers the OpenTelemetry SDK.
  const nodeArgs = otel ? ['--import', new URL('./services/otel.mjs', import.meta.url).href] : []
  const start = (name, env = {}) =>
    startService(name, address(name), handlers, { env: { ...env, OTEL_SERVICE_NAME: name }, nodeArgs })
  // The ledger first: orders and payments call it.
  const ledger = await start('ledger')
  stack.services.set('ledger', ledger)
  const env = { LEDGER_ADDRESS: ledger.url, LEDGER_ID: ledger.id }
  const [orders, payments, admin, ...callerList] = await Promise.all([
    start('orders', env),
    start('payments', env),
    start('admin'),
    ...CALLERS.map(async (name) => {
      // Each caller's own identity: an X509Source (mTLS) and a JwtSource (JWT-SVIDs) on its own socket.
      const x509 = await X509Source.create({ address: address(name), timeoutMs: 10_000 })
      onTeardown(() => x509.close())
      const jwt = await JwtSource.create({ address: address(name), timeoutMs: 10_000 })
      onTeardown(() => jwt.close())
      return { name, id: workloads.get(name).id, x509, jwt }
    }),
  ])
  for (const s of [orders, payments, admin]) stack.services.set(s.name, s)
  for (const c of callerList) stack.callers.set(c.name, c)
  // A workload that saved its X.509-SVID and bundle to files once and never refreshed them: acme web's
  // first SVID, used after it expired (see "Expired and revoked").
  const first = stack.callers.get('acme-web').x509.getX509Svid()
  stack.callers.set('acme-web-files', {
    name: 'acme-web-files',
    id: first.id.toString(),
    expiresAt: first.expiresAt,
    files: {
      cert: first.certificates.map((c) => c.toString()).join(''),
      key: first.privateKey.export({ format: 'pem', type: 'pkcs8' }),
      ca: stack.callers.get('acme-web').x509.getX509BundleForTrustDomain(first.id.trustDomain).toPem(),
    },
  })
  if (nginxFound.path) {
    stack.nginx = await startNginx({
      nginx: nginxFound.path,
      dir: join(dir, 'nginx'),
      address: address('nginx'),
      upstreamPort: new URL(orders.url).port,
      sourceAddress: NGINX_SOURCE_ADDRESS,
      onReloaded: (serial) =>
        stack.notes.push(
          `nginx got a new X.509-SVID (serial ${short(serial)}): files rewritten, nginx reloaded`,
        ),
    })
  }

  say()
  say(`Started in ${seconds()} s (trust domain ${trustDomain}; X.509-SVIDs rotate every 5 s):`)
  for (const [name, what] of SERVICES) {
    const s = stack.services.get(name)
    say(`  ${name.padEnd(9)} ${s.url.padEnd(24)} ${s.id}  ${what}`)
  }
  if (stack.nginx) say(`  ${'nginx'.padEnd(9)} ${stack.nginx.url.padEnd(24)} ${stack.nginx.id}  → orders`)
  else say(yellow(`  nginx     not available, the calls through it are skipped: ${nginxFound.skip}`))
  for (const name of CALLERS) say(`  caller    ${name.padEnd(24)} ${stack.callers.get(name).id}`)
  return stack
}

/** Prints the reports of one call: audit events, handshake refusals, and with --otel the spans. */
function printReports(reports) {
  for (const r of reports) {
    if (r.event) say(dim(`      ${auditLine(r.service, r.event)}`))
    else if (r.refused)
      say(dim(`      ${r.service} refused the TLS handshake: ${r.refused.code} (${r.refused.message})`))
    else if (r.otel !== undefined) say(dim(`      [${r.service} otel] ${r.otel}`))
  }
}

/** What the target service saw and decided, as `outcomeLine` and `problemsOf` read it. */
function seenOf(result, service) {
  const own = result.reports.filter((r) => r.service === service)
  const refusal = own.find((r) => r.refused)?.refused
  const decided = decidedBy(own.filter((r) => r.event).map((r) => r.event))
  const denied = result.grpc ? result.grpc.code !== 0 : result.status >= 400
  return {
    ...decided,
    status: result.status,
    grpc: result.grpc,
    code: result.code ?? refusal?.code,
    refused: refusal?.code,
    why: refusal ? `refused in the TLS handshake: ${refusal.message}` : denied ? result.why : decided.why,
  }
}

/** The ledger call a service made while serving `call`, from what the service answered. */
function innerSeen(result, inner) {
  const r = result.body?.ledger
  const own = result.reports.filter((x) => x.service === inner.to && x.event).map((x) => x.event)
  const decided = decidedBy(own)
  if (!r) return { ...decided, grpc: undefined, why: 'the service did not call the ledger' }
  return {
    ...decided,
    grpc: { code: r.code, name: r.name },
    code: r.svidkitCode,
    why: r.code === 0 ? decided.why : r.details,
  }
}

/** Makes one call and prints it: what it is, what the service said, the inner call, the reports. */
async function runCall(stack, ids, number, call, extra) {
  const expected = call.expect.status ? call.expect.status < 400 : call.expect.grpc === 'OK'
  const what = call.rpc ? call.rpc : `${call.method} ${call.path}`
  say()
  say(`${String(number).padStart(2)}. ${call.title}`)
  say(dim(`    ${call.from} → ${call.to} ${what} (${HOW[call.via]}), expect ${expectedText(call.expect)}`))
  if (call.via === 'nginx' && !stack.nginx) {
    say(yellow('    – skipped: nginx is not available'))
    return { skipped: true }
  }
  let result
  let problems
  let seen
  try {
    result = await send(stack, call)
    seen = seenOf(result, call.to)
    problems = [...problemsOf(call.expect, seen, ids), ...(extra?.check(result) ?? [])]
  } catch (err) {
    problems = [`the call failed: ${err.cause?.message ?? err.message}`]
  }
  if (seen) say(`    ${outcomeLine(problems.length === 0, seen)}`)
  if (call.inner && result) {
    const inner = innerSeen(result, call.inner)
    const innerProblems = problemsOf(call.inner.expect, inner, ids)
    say(
      `    ↳ ${call.inner.from} → ${call.inner.to} ${call.inner.rpc} (${HOW[call.inner.via]}): ${outcomeLine(innerProblems.length === 0, inner)}`,
    )
    problems.push(...innerProblems.map((p) => `${call.inner.to}: ${p}`))
  }
  if (extra && result) say(dim(`      ${extra.note(result)}`))
  if (problems.length > 0) say(red(`      not as expected: ${problems.join('; ')}`))
  if (result) printReports(result.reports)
  return {
    ok: problems.length === 0,
    expected: expected ? 'allow' : 'deny',
    serverSerial: result?.serverSerial,
  }
}

async function main() {
  const stack = await startEverything()
  const ids = new Map([
    ...[...stack.callers.values()].map((c) => [c.name, c.id]),
    ...[...stack.services.values()].map((s) => [s.name, s.id]),
  ])
  const results = []
  const run = async (call, extra) => {
    const r = await runCall(stack, ids, results.length + 1, call, extra)
    results.push(r)
    return r
  }

  section('Allowed: every channel, the federation, service to service')
  for (const call of ALLOWED) await run(call)
  section('Refused')
  for (const call of REFUSED) await run(call)

  // Live rotation: the agent re-issues every X.509-SVID at half-life. The services serve their new SVID
  // to new connections without a restart; nginx gets new files and reloads.
  section('Live rotation')
  const orders = stack.services.get('orders')
  const ordersBefore = results[0].serverSerial
  const nginxBefore = results[1].serverSerial
  say(dim('    the agent re-issues every X.509-SVID at half-life (every 5 s); waiting for new ones…'))
  const rotated = await waitFor(
    () =>
      orders.serial !== ordersBefore &&
      (!stack.nginx || (nginxBefore !== undefined && stack.nginx.serial !== nginxBefore)),
    12_000,
  )
  for (const line of stack.notes.splice(0)) say(dim(`    ${line}`))
  const changed = (name, before) => ({
    check(result) {
      const problems = result.serverSerial === before ? [`${name} still presented its old SVID`] : []
      if (!rotated) problems.push('the SVIDs were not re-issued within 12 s')
      return problems
    },
    note: (result) =>
      `${name} presented the SVID with serial ${short(result.serverSerial)} (before: ${short(before)})`,
  })
  await run(
    { ...ALLOWED[0], title: 'acme web reads an order again: orders presents its new SVID' },
    changed('orders', ordersBefore),
  )
  await run(
    { ...ALLOWED[1], title: 'acme web lists orders through nginx again: nginx presents its new SVID' },
    changed('nginx', nginxBefore),
  )

  section('Expired and revoked')
  await expiredAndRevoked(stack, run)
  if (otel) await printMetrics(stack)

  // Summary.
  const made = results.filter((r) => !r.skipped)
  const allowed = made.filter((r) => r.ok && r.expected === 'allow').length
  const denied = made.filter((r) => r.ok && r.expected === 'deny').length
  const failed = made.filter((r) => !r.ok).length
  const skipped = results.length - made.length
  say()
  const summary = `${made.length} calls: ${allowed} allowed and ${denied} denied as expected${failed ? `, ${failed} not as expected` : ''}${skipped ? `, ${skipped} skipped (no nginx)` : ''} (${seconds()} s)`
  say(failed ? red(bold(`✘ ${summary}`)) : green(bold(`✔ ${summary}`)))
  return failed === 0 ? 0 : 1
}

/** With --otel: each service exports its metrics (the console exporter) and they are printed. */
async function printMetrics(stack) {
  section('OpenTelemetry metrics (svidkit.decisions, svidkit.decision.duration), per service')
  const before = stack.events.length
  const services = [...stack.services.values()]
  for (const s of services) s.proc.child.send({ type: 'otel-flush' })
  await waitFor(() => services.every((s) => s.flushed), 5_000)
  await new Promise((r) => setTimeout(r, 100))
  const lines = stack.events.slice(before)
  for (const [name] of SERVICES) printReports(lines.filter((r) => r.service === name))
}

function section(title) {
  say()
  say(bold(title))
}

/**
 * (a) acme web's first X.509-SVID, kept in files past its 10 s lifetime, presented to payments;
 * (b) the federation with partner.example removed from the running agent (its configuration edited, then
 * SIGHUP): the Workload API pushes payments its bundles without the partner's, and the partner's next
 * call is refused, with no restart.
 */
async function expiredAndRevoked(stack, run) {
  const files = stack.callers.get('acme-web-files')
  const left = files.expiresAt.getTime() - Date.now()
  say(
    dim(
      `    acme web's first X.509-SVID was saved to files at start; it expires at ${files.expiresAt.toISOString()}${left > 0 ? `, in ${(left / 1000).toFixed(1)} s: waiting…` : ''}`,
    ),
  )
  await waitFor(() => Date.now() > files.expiresAt.getTime() + 500, Math.max(0, left) + 2_000)
  await run({
    title: "a workload still presents acme web's first X.509-SVID, from files, after it expired",
    from: 'acme-web-files',
    to: 'payments',
    via: 'files',
    method: 'GET',
    path: '/payments/pay-1',
    expect: { status: 401, code: 'ERR_X509_SVID_EXPIRED' },
  })

  say()
  say(dim('    removing the federation with partner.example from agent.yaml, then SIGHUP to the agent…'))
  const payments = stack.services.get('payments')
  await stack.agent.reload((doc) => {
    doc.federation = (doc.federation ?? []).filter((f) => (f.trustDomain ?? f) !== 'partner.example')
    return doc
  })
  const pushed = await waitFor(
    () => payments.trustDomains && !payments.trustDomains.includes('partner.example'),
    5_000,
  )
  for (const line of stack.notes.splice(0)) say(dim(`    ${line}`))
  await run(
    {
      title: 'the partner settles a payment again, after the federation was removed',
      from: 'partner',
      to: 'payments',
      via: 'mtls',
      method: 'POST',
      path: '/payments/pay-1/settle',
      expect: { status: 401, code: 'ERR_X509_SVID_NO_BUNDLE' },
    },
    {
      check: () => (pushed ? [] : ["payments still had the partner's bundle 5 s after the reload"]),
      note: () => 'payments was not restarted: its X509Source got the new bundles on its Workload API stream',
    },
  )
}

let code = 1
try {
  code = await withTimeout(main(), 120_000, 'the demo did not finish within 120 s')
} catch (err) {
  if (!stopping) say(red(`\n✘ the demo failed: ${err.stack ?? err}`))
}
if (!stopping) {
  await teardown()
  process.exit(code)
}
