// The demo (examples/demo) as a smoke test: the real `svidkit agent` CLI, the four services (Fastify,
// NestJS, gRPC, Express) in their own processes, nginx, and the built packages (dist/, brought up to date
// here with `tsc -b`, which is a no-op when `pnpm build` already ran). One run, with --otel: it must exit
// 0, which it does only when every call got the outcome it expects, print the OpenTelemetry spans and
// metrics, and leave nothing behind.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, expect, test } from 'vitest'
import { buildPackages, root, runNode } from './harness/run-example.js'

beforeAll(buildPackages, 300_000)

function runDemo(args: string[]): Promise<{ code: number | null; output: string }> {
  return runNode([join(root, 'examples/demo/run.mjs'), ...args], { cwd: root, env: { NO_COLOR: '1' } })
}

/** The block a numbered call printed: from `<n>. <title>` to the next call or section. */
function callBlock(output: string, title: string): string {
  const start = output.indexOf(`. ${title}\n`)
  expect(start, `no call "${title}" in:\n${output}`).toBeGreaterThan(-1)
  const rest = output.slice(start)
  const end = rest.slice(1).search(/\n(\s?\d+\. |[A-Z][a-z]+.*\n)/)
  return end === -1 ? rest : rest.slice(0, end + 1)
}

const ID = (path: string) => `spiffe://demo.svidkit.dev/tenant/${path}`
const PARTNER = 'spiffe://partner.example/ns/billing/sa/settlement'

// Generous: a first run may install nginx with apt-get (outside CI, a missing nginx is a skip).
test('the demo runs end to end: every call gets the expected outcome', { timeout: 300_000 }, async () => {
  const { code, output } = await runDemo(['--otel'])
  expect(output, output).toMatch(/✔ \d+ calls: \d+ allowed and \d+ denied as expected/)
  expect(code, output).toBe(0)
  const nginx = !/nginx {5}not available/.test(output)
  expect(output).toMatch(
    nginx
      ? /✔ 24 calls: 12 allowed and 12 denied as expected \(/
      : /✔ 21 calls: 10 allowed and 11 denied as expected, 3 skipped \(no nginx\)/,
  )
  // The real CLI started the agent; four services on four frameworks.
  expect(output).toContain('svidkit dev agent for demo.svidkit.dev')
  for (const what of ['Fastify', 'NestJS (Express)', 'gRPC', 'Express']) expect(output).toContain(what)

  // Each channel, and the services calling the ledger.
  expect(callBlock(output, 'acme web reads an order')).toContain(
    `✔ 200 · ${ID('acme/ns/shop/sa/web')} via mtls`,
  )
  expect(callBlock(output, 'acme admin-cli runs the bulk export')).toContain(
    `✔ 200 · ${ID('acme/ns/ops/sa/admin-cli')} via jwt · allowed by rule "ops-exports-orders"`,
  )
  const invoice = callBlock(output, 'acme web asks for an invoice: orders reads the ledger over gRPC')
  expect(invoice).toContain(
    `↳ orders → ledger ListEntries (gRPC, channel credentials): ✔ OK (0) · ${ID('acme/ns/shop/sa/orders')} via mtls · allowed by rule "services-read-entries"`,
  )
  expect(invoice).toContain(
    'audit ledger: allow gRPC /demo.ledger.v1.Ledger/ListEntries rule=services-read-entries',
  )
  const capture = callBlock(
    output,
    'acme admin-cli captures a payment: payments records it in the ledger (gRPC + JWT-SVID)',
  )
  expect(capture).toContain(`✔ 201 · ${ID('acme/ns/ops/sa/admin-cli')} via jwt`)
  expect(capture).toContain(
    `✔ OK (0) · ${ID('acme/ns/finance/sa/payments')} via jwt · allowed by rule "payments-records-entries"`,
  )
  expect(callBlock(output, "acme admin-cli reads the ledger's balance (gRPC)")).toContain(
    `✔ OK (0) · ${ID('acme/ns/ops/sa/admin-cli')} via mtls · allowed by rule "ops-reads-balances"`,
  )
  // The federation: the partner, by ID, over mTLS and with a JWT-SVID of its own trust domain.
  expect(
    callBlock(output, "the partner's settlement service settles a payment, across the federation"),
  ).toContain(`✔ 201 · ${PARTNER} via mtls · allowed by rule "partner-settles"`)
  expect(
    callBlock(output, 'the partner reads the payment with a JWT-SVID of its own trust domain'),
  ).toContain(`✔ 200 · ${PARTNER} via jwt · allowed by rule "partner-settles"`)

  // Refusals, each with its exact code.
  expect(callBlock(output, 'globex web reads an acme order (cross-tenant)')).toContain(
    '✔ 403 ERR_ACCESS_DENIED · spiffe://demo.svidkit.dev/tenant/globex/ns/shop/sa/web via mtls · authz: denied by rule "tenant-isolation"',
  )
  expect(callBlock(output, "globex web reads acme's ledger (cross-tenant, gRPC)")).toContain(
    '✔ PERMISSION_DENIED (7) ERR_ACCESS_DENIED · spiffe://demo.svidkit.dev/tenant/globex/ns/shop/sa/web via mtls',
  )
  expect(output).toContain('✔ 403 ERR_SCOPE_MISSING')
  expect(output).toContain('denied by rule "no-bulk-export"')
  expect(output).toContain('✔ 401 ERR_FORWARDED_CERT_UNTRUSTED_PEER')
  expect(
    callBlock(output, 'acme web writes to the ledger (only payments may), with a JWT-SVID on the gRPC call'),
  ).toContain(`✔ PERMISSION_DENIED (7) ERR_ACCESS_DENIED · ${ID('acme/ns/shop/sa/web')} via jwt`)
  const stranger = callBlock(
    output,
    "a workload of stranger.example (not federated) with the partner's path calls payments",
  )
  expect(stranger).toContain('✔ 401 ERR_X509_SVID_NO_BUNDLE')
  expect(stranger).toContain('audit payments: deny POST /payments/pay-1/settle code=ERR_X509_SVID_NO_BUNDLE')
  expect(
    callBlock(output, 'the partner calls the ledger, which lets only demo.svidkit.dev connect'),
  ).toContain('ledger refused the TLS handshake: ERR_TLS_PEER_NOT_AUTHORIZED')
  // Expired: refused with a 401 and an audit event. Revoked: the federation removed from the running
  // agent (SIGHUP), pushed to payments, and the partner's next call refused.
  const expired = callBlock(
    output,
    "a workload still presents acme web's first X.509-SVID, from files, after it expired",
  )
  expect(expired).toContain('✔ 401 ERR_X509_SVID_EXPIRED')
  expect(expired).toContain('audit payments: deny GET /payments/pay-1 code=ERR_X509_SVID_EXPIRED')
  expect(output).toMatch(/\[agent\] reloaded .*agent\.yaml/)
  expect(output).toContain('payments now has bundles for: demo.svidkit.dev')
  const revoked = callBlock(output, 'the partner settles a payment again, after the federation was removed')
  expect(revoked).toContain('✔ 401 ERR_X509_SVID_NO_BUNDLE')
  expect(revoked).toContain('audit payments: deny POST /payments/pay-1/settle code=ERR_X509_SVID_NO_BUNDLE')
  if (nginx) {
    expect(output).toContain(`✔ 200 · ${ID('acme/ns/shop/sa/web')} via xfcc`)
    expect(output).toContain('nginx reloaded')
  }

  // --otel: spans with svidkit's decision attributes, and the decision metrics of each service.
  expect(output).toContain("[orders otel]     'svidkit.rule': 'web-reads-orders',")
  expect(output).toContain("[payments otel]     'svidkit.decision': 'deny',")
  expect(output).toMatch(/\[ledger otel\] +name: 'grpc\.demo\.ledger\.v1\.Ledger\/ListEntries'/)
  expect(output).toMatch(/\[payments otel\] +name: 'svidkit\.decisions'/)

  // Torn down: the temp dir (sockets, nginx files) is gone.
  const dir = /--config (\S+)\/agent\.yaml/.exec(output)?.[1]
  expect(dir, output).toBeDefined()
  expect(existsSync(dir!)).toBe(false)
})
