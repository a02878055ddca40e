#!/usr/bin/env node
// The svidkit demo (see README.md): starts the dev Workload API agent (`svidkit agent`), the orders API
// (Fastify), the admin API (Express) and nginx, makes a series of calls as workloads of two tenants,
// prints what the services decided, and tears everything down. Exit code 0 only when every call got
// the expected outcome, so the demo doubles as a smoke test.
//
//   node scripts/build.mjs && node examples/demo/run.mjs      (or: pnpm demo, at the repository root)
//   node examples/demo/run.mjs --no-nginx                        (skips the calls through nginx)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withJwtSvid } from '@svidkit/core/http-client'
import { matchId } from '@svidkit/core/spiffe-id'
import { createSpiffeDispatcher } from '@svidkit/core/tls'
import { JwtSource, X509Source } from '@svidkit/core/workload-api'
import { fetch } from 'undici'
import { findNginx, startNginx } from './lib/nginx.mjs'
import { onTeardown, removeOnExit, teardown, withTimeout } from './lib/processes.mjs'
import { startAgent, startService } from './lib/stack.mjs'
import { NGINX_SOURCE_ADDRESS } from './services/service-kit.mjs'

// --- output ----------------------------------------------------------------------------------------

const useColor = process.stdout.isTTY && !process.env.NO_COLOR
const paint = (code) => (text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : String(text))
const bold = paint('1')
const dim = paint('2')
const green = paint('32')
const red = paint('31')
const yellow = paint('33')
const say = (line = '') => process.stdout.write(`${line}\n`)
const prefixed = (prefix) => (line) => say(dim(`${prefix} ${line}`))

// --- the calls ---------------------------------------------------------------------------------------

// `via`: mtls (the caller's X.509-SVID only), jwt (plus a JWT-SVID bearer token for the service),
// nginx (mTLS to nginx, which forwards the caller's certificate), forged (a forwarded-certificate
// header sent straight to the service, carrying `forge`'s certificate).
const CALLS = [
  {
    title: 'acme web reads an order',
    from: 'acme-web',
    to: 'orders',
    via: 'mtls',
    method: 'GET',
    path: '/orders/1001',
    expect: { status: 200, caller: 'acme-web', channel: 'mtls', rule: 'web-reads-orders' },
  },
  {
    title: 'acme web lists orders through nginx',
    from: 'acme-web',
    to: 'orders',
    via: 'nginx',
    method: 'GET',
    path: '/orders',
    expect: { status: 200, caller: 'acme-web', channel: 'xfcc', rule: 'web-reads-orders' },
  },
  {
    title: 'acme admin-cli runs the bulk export',
    from: 'admin-cli',
    to: 'orders',
    via: 'jwt',
    method: 'GET',
    path: '/orders/export',
    expect: { status: 200, caller: 'admin-cli', channel: 'jwt', rule: 'ops-exports-orders' },
  },
  {
    title: 'acme admin-cli reads tenant usage',
    from: 'admin-cli',
    to: 'admin',
    via: 'jwt',
    method: 'GET',
    path: '/admin/tenants/acme/usage',
    expect: { status: 200, caller: 'admin-cli', channel: 'jwt', rule: 'tenant-reads-admin' },
  },
  {
    title: 'globex web reads an acme order (cross-tenant)',
    from: 'globex-web',
    to: 'orders',
    via: 'mtls',
    method: 'GET',
    path: '/orders/1001',
    expect: { status: 403, code: 'ERR_ACCESS_DENIED', caller: 'globex-web', rule: 'tenant-isolation' },
  },
  {
    title: 'globex web lists acme orders through nginx (cross-tenant)',
    from: 'globex-web',
    to: 'orders',
    via: 'nginx',
    method: 'GET',
    path: '/orders',
    expect: {
      status: 403,
      code: 'ERR_ACCESS_DENIED',
      caller: 'globex-web',
      channel: 'xfcc',
      rule: 'tenant-isolation',
    },
  },
  {
    title: 'acme web places an order without the orders:write scope',
    from: 'acme-web',
    to: 'orders',
    via: 'jwt',
    method: 'POST',
    path: '/orders',
    body: { item: 'anvil', qty: 1 },
    expect: {
      status: 403,
      code: 'ERR_SCOPE_MISSING',
      caller: 'acme-web',
      channel: 'jwt',
      rule: 'web-places-orders',
    },
  },
  {
    title: 'acme web runs the bulk export (DENY no-bulk-export beats ALLOW web-reads-orders)',
    from: 'acme-web',
    to: 'orders',
    via: 'mtls',
    method: 'GET',
    path: '/orders/export',
    expect: { status: 403, code: 'ERR_ACCESS_DENIED', caller: 'acme-web', rule: 'no-bulk-export' },
  },
  {
    title: 'acme web reads tenant usage (not in the ops namespace)',
    from: 'acme-web',
    to: 'admin',
    via: 'mtls',
    method: 'GET',
    path: '/admin/tenants/acme/usage',
    expect: { status: 403, code: 'ERR_ACCESS_DENIED', caller: 'acme-web', rule: 'same-namespace' },
  },
  {
    title: "globex web forges nginx's header with acme web's certificate, straight to orders",
    from: 'globex-web',
    to: 'orders',
    via: 'forged',
    forge: 'acme-web',
    method: 'GET',
    path: '/orders',
    expect: { status: 401, code: 'ERR_FORWARDED_CERT_UNTRUSTED_PEER' },
  },
]

// --- running ----------------------------------------------------------------------------------------

const started = Date.now()
const seconds = () => ((Date.now() - started) / 1000).toFixed(1)
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(condition, ms) {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) return false
    await delay(10)
  }
  return true
}

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

const rotations = []
const onStderr = (service, line) => {
  if (!stopping && line.trim() !== '') say(dim(`[${service.name}] ${line}`))
}

async function startEverything() {
  say(bold('svidkit demo: two tenants, two services, one edge proxy, one trust domain'))
  say()
  const { workloads, trustDomain } = await startAgent(dir, prefixed('[agent]'))
  const address = (name) => workloads.get(name).address
  say(dim(`        one socket per workload (agent.yaml): ${[...workloads.keys()].join(', ')}`))
  // nginx is found, or installed with apt-get (test/proxies' helper); `--no-nginx` leaves it out.
  const nginxFound = process.argv.includes('--no-nginx') ? { skip: 'left out (--no-nginx)' } : findNginx()

  const handlers = {
    onStderr,
    onRotated: (service, m) => {
      service.rotated = true
      rotations.push(
        `${service.name} got a new X.509-SVID (serial ${short(m.serial)}) and serves it to new connections`,
      )
    },
  }
  const callerNames = ['acme-web', 'globex-web', 'admin-cli']
  const [orders, admin, ...callerList] = await Promise.all([
    startService('orders', address('orders'), handlers),
    startService('admin', address('admin'), handlers),
    ...callerNames.map(async (name) => {
      // Each caller's own identity: an X509Source (mTLS) and a JwtSource (JWT-SVIDs) on its own socket.
      const x509 = await X509Source.create({ address: address(name), timeoutMs: 10_000 })
      onTeardown(() => x509.close())
      const jwt = await JwtSource.create({ address: address(name), timeoutMs: 10_000 })
      onTeardown(() => jwt.close())
      return { name, id: workloads.get(name).id, x509, jwt }
    }),
  ])
  const callers = new Map(callerList.map((c) => [c.name, c]))
  let nginx
  if (nginxFound.path) {
    nginx = await startNginx({
      nginx: nginxFound.path,
      dir: join(dir, 'nginx'),
      address: address('nginx'),
      upstreamPort: new URL(orders.url).port,
      sourceAddress: NGINX_SOURCE_ADDRESS,
      onReloaded: (serial) =>
        rotations.push(
          `nginx got a new X.509-SVID (serial ${short(serial)}): files rewritten, nginx reloaded`,
        ),
    })
  }

  say()
  say(`Started in ${seconds()} s (trust domain ${trustDomain}; X.509-SVIDs rotate every 5 s):`)
  say(`  orders  ${orders.url}  ${orders.id}  Fastify, policies/orders.yaml`)
  say(`  admin   ${admin.url}  ${admin.id}  Express, policies/admin.yaml`)
  if (nginx) say(`  nginx   ${nginx.url}  ${nginx.id}  → orders`)
  else say(yellow(`  nginx   not available, the calls through it are skipped: ${nginxFound.skip}`))
  for (const c of callers.values()) say(`  caller  ${c.name.padEnd(10)} ${c.id}`)
  return {
    services: new Map([
      ['orders', orders],
      ['admin', admin],
    ]),
    callers,
    nginx,
  }
}

function short(serial) {
  return serial.length > 12 ? `${serial.slice(0, 12)}…` : serial
}

/** One call, as `call.from`, with fresh connections; returns what happened. */
async function send(stack, call) {
  const from = stack.callers.get(call.from)
  const service = stack.services.get(call.to)
  const target = call.via === 'nginx' ? stack.nginx : service
  let serverSerial
  // mTLS client: presents the caller's X.509-SVID, and talks only to the expected server identity.
  const dispatcher = createSpiffeDispatcher({
    source: from.x509,
    authorize: matchId(target.id),
    onVerified: (peer) => {
      serverSerial = peer.certificate.serialNumber
    },
  })
  const headers = { accept: 'application/json' }
  if (call.body) headers['content-type'] = 'application/json'
  if (call.via === 'forged') {
    const victim = stack.callers.get(call.forge).x509.getX509Svid().certificates[0]
    headers['ssl-client-cert'] = encodeURIComponent(victim.toString()) // as $ssl_client_escaped_cert
  }
  // JWT-SVID: fetched from the caller's own socket for the service's audience, sent as a bearer token.
  const request = call.via === 'jwt' ? withJwtSvid(fetch, { source: from.jwt, audience: service.id }) : fetch
  const before = service.events.length
  let status
  let body
  try {
    const res = await request(`${target.url}${call.path}`, {
      method: call.method,
      headers,
      body: call.body ? JSON.stringify(call.body) : undefined,
      dispatcher,
      signal: AbortSignal.timeout(5_000),
    })
    status = res.status
    body = await res.json().catch(() => ({}))
  } finally {
    await dispatcher.close()
  }
  // The service's audit events for this call (sent before the response, over another channel).
  await waitFor(() => service.events.length > before, 1_000)
  await delay(25)
  return { status, body, events: service.events.slice(before), serverSerial }
}

/** What the service saw and decided, from the response body (allowed) or the audit events (denied). */
function outcome(result) {
  const { status, body, events } = result
  const deny = events.findLast((e) => e.decision === 'deny')
  if (status < 400) {
    return {
      status,
      callerId: body.caller?.id,
      channel: body.caller?.channel,
      rules: (body.decided ?? []).map((d) => d.rule),
      why: (body.decided ?? []).map((d) => d.reason).join('; then '),
    }
  }
  return {
    status,
    code: body.code,
    callerId: deny?.caller ?? undefined,
    channel: deny?.channel ?? undefined,
    rules: deny ? [deny.rule] : [],
    why: body.message,
  }
}

function check(call, seen, ids) {
  const e = call.expect
  const problems = []
  if (seen.status !== e.status) problems.push(`status ${seen.status}, expected ${e.status}`)
  if (e.code && seen.code !== e.code) problems.push(`code ${seen.code}, expected ${e.code}`)
  if (e.caller && seen.callerId !== ids.get(e.caller))
    problems.push(`caller ${seen.callerId}, expected ${e.caller}`)
  const channel = e.channel ?? (e.caller ? (call.via === 'nginx' ? 'xfcc' : call.via) : undefined)
  if (channel && seen.channel !== channel) problems.push(`channel ${seen.channel}, expected ${channel}`)
  if (e.rule && !seen.rules.includes(e.rule) && !String(seen.why).includes(`"${e.rule}"`)) {
    problems.push(`decided by ${seen.rules.join(', ') || 'no rule'}, expected ${e.rule}`)
  }
  return problems
}

function auditLine(service, e) {
  const rule = e.rule ? ` rule=${e.rule}` : ''
  const code = e.code ? ` code=${e.code}` : ''
  return `audit ${service}: ${e.decision} ${e.operation.method} ${e.operation.path}${rule}${code} (${e.latencyMs.toFixed(2)} ms)`
}

const HOW = { mtls: 'mTLS', jwt: 'JWT-SVID', nginx: 'via nginx', forged: 'forged header' }

/** Makes one call and prints it: what it is, what the service said, its audit events. */
async function runCall(stack, ids, number, call, extra) {
  const expected = call.expect.status < 400 ? 'allow' : 'deny'
  say()
  say(`${String(number).padStart(2)}. ${call.title}`)
  say(
    dim(
      `    ${call.from} → ${call.to} ${call.method} ${call.path} (${HOW[call.via]}), expect ${call.expect.status} ${expected}`,
    ),
  )
  if (call.via === 'nginx' && !stack.nginx) {
    say(yellow('    – skipped: nginx is not available'))
    return { skipped: true }
  }
  let result
  let seen
  let problems
  try {
    result = await send(stack, call)
    seen = outcome(result)
    problems = [...check(call, seen, ids), ...(extra?.check(result) ?? [])]
  } catch (err) {
    problems = [`the call failed: ${err.cause?.message ?? err.message}`]
  }
  const ok = problems.length === 0
  if (seen) {
    const who = seen.callerId
      ? `${seen.callerId} via ${seen.channel}`
      : 'no caller (refused before one was established)'
    const status = seen.code ? `${seen.status} ${seen.code}` : String(seen.status)
    say(`    ${ok ? green('✔') : red('✘')} ${bold(status)} · ${who} · ${seen.why}`)
  }
  if (extra && result) say(dim(`      ${extra.note(result)}`))
  if (!ok) say(red(`      not as expected: ${problems.join('; ')}`))
  for (const e of result?.events ?? []) say(dim(`      ${auditLine(call.to, e)}`))
  return { ok, expected, serverSerial: result?.serverSerial }
}

async function main() {
  const stack = await startEverything()
  const ids = new Map([...stack.callers.values()].map((c) => [c.name, c.id]))
  const results = []

  say()
  say(bold('Calls'))
  for (const [i, call] of CALLS.entries()) results.push(await runCall(stack, ids, i + 1, call))

  // Live rotation: the agent re-issues every X.509-SVID at half-life. The services serve their new SVID
  // to new connections without a restart; nginx gets new files and reloads.
  say()
  say(bold('Live rotation'))
  const orders = stack.services.get('orders')
  const admin = stack.services.get('admin')
  const ordersBefore = results[0].serverSerial
  const nginxBefore = results[1].serverSerial
  say(dim('    the agent re-issues every X.509-SVID at half-life (every 5 s); waiting for new ones…'))
  const rotated = await waitFor(
    () =>
      orders.serial !== ordersBefore &&
      admin.rotated &&
      (!stack.nginx || (nginxBefore !== undefined && stack.nginx.serial !== nginxBefore)),
    12_000,
  )
  for (const line of rotations) say(dim(`    ${line}`))
  const changed = (name, before) => ({
    check(result) {
      const problems = result.serverSerial === before ? [`${name} still presented its old SVID`] : []
      if (!rotated) problems.push('the SVIDs were not re-issued within 12 s')
      return problems
    },
    note: (result) =>
      `${name} presented the SVID with serial ${short(result.serverSerial ?? '?')} (before: ${short(before ?? '?')})`,
  })
  const again = [
    [
      { ...CALLS[0], title: 'acme web reads an order again: orders presents its new SVID' },
      changed('orders', ordersBefore),
    ],
    [
      { ...CALLS[1], title: 'acme web lists orders through nginx again: nginx presents its new SVID' },
      changed('nginx', nginxBefore),
    ],
  ]
  for (const [call, extra] of again) results.push(await runCall(stack, ids, results.length + 1, call, extra))

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
