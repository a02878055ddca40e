// Point 6: the bad-input table (harness/bad-input.ts) over real TLS sockets, against every adapter.
// Each row yields its documented status and code on every adapter, refused rows never reach a handler,
// and accepted rows reach it with the caller the real credential names.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { adapters } from './harness/adapters/index.js'
import { badInputRows } from './harness/bad-input.js'
import { capture } from './harness/capture.js'
import { ServedCounter } from './harness/load.js'
import type { CallOutcome, RunningService } from './harness/service.js'
import { createStaticFixtures, HOST, type StaticFixtures, TRUSTED_PROXY } from './harness/static-fixtures.js'

let fx: StaticFixtures
const services = new Map<string, RunningService>()
const served = new ServedCounter()
/** Outcome per row per adapter, to compare adapters with each other. */
const seen = new Map<string, Map<string, { status: number; code: string | undefined }>>()

beforeAll(async () => {
  fx = await createStaticFixtures()
  for (const adapter of adapters) {
    services.set(
      adapter.name,
      await adapter.start({
        host: HOST,
        tls: fx.tls,
        verifier: fx.verifier(),
        respond: served.respond,
        log: capture.stream(),
        // Large enough for the 64 KiB XFCC row to reach svidkit; the 431 row goes past it.
        maxHeaderSize: 128 * 1024,
      }),
    )
  }
})
afterAll(async () => {
  await Promise.all([...services.values()].map((s) => s.close()))
})

describe.each(adapters.map((a) => [a.name, a] as const))('bad input: %s', (name, adapter) => {
  test.each(badInputRows.map((r) => [r.name, r] as const))('%s', async (_label, row) => {
    const before = served.served
    const outcome: CallOutcome = await adapter.callRaw(services.get(name)!, {
      operation: 'whoami',
      lines: await row.lines(fx),
      trust: fx.trust,
      ...(row.fromProxy ? { from: TRUSTED_PROXY } : {}),
      ...(row.withCertificate
        ? { certificate: fx.webCertificate }
        : row.fromProxy === true
          ? { certificate: fx.proxyCertificate }
          : {}),
    })
    if (outcome.kind === 'failed') {
      // Only Node's own refusal may close the connection without an answer (see BadInputRow.httpOnly).
      if (!row.httpOnly) throw new Error(`no answer: ${outcome.stage}: ${outcome.error}`)
      expect(served.served, 'a refused request reached a handler').toBe(before)
      const byAdapter = seen.get(row.name) ?? new Map()
      byAdapter.set(name, { status: row.expect.status, code: undefined })
      seen.set(row.name, byAdapter)
      return
    }
    if (outcome.kind === 'refused' && outcome.body !== undefined)
      capture.line('response', JSON.stringify(outcome.body))
    const code = outcome.kind === 'refused' ? outcome.code : undefined
    const got = { status: outcome.status, ...(code === undefined ? {} : { code }) }
    const want = {
      status: row.expect.status,
      ...(row.expect.code === undefined ? {} : { code: row.expect.code }),
    }
    expect(got, JSON.stringify(outcome.kind === 'refused' ? outcome.body : '')).toEqual(want)
    if (row.expect.caller === undefined) {
      expect(served.served, 'a refused request reached a handler').toBe(before)
    } else {
      expect(served.served).toBe(before + 1)
      expect((outcome as { body: { caller?: unknown } }).body.caller).toBe(row.expect.caller)
    }
    const byAdapter = seen.get(row.name) ?? new Map()
    byAdapter.set(name, { status: outcome.status, code })
    seen.set(row.name, byAdapter)
  })
})

test('every row answered the same on every adapter', () => {
  expect(seen.size).toBe(badInputRows.length)
  for (const [row, byAdapter] of seen) {
    expect(byAdapter.size, row).toBe(adapters.length)
    const [first, ...rest] = [...byAdapter.values()]
    for (const r of rest) expect(r, row).toEqual(first)
  }
})
