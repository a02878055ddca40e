// Point 5: the whole caller-scenario table of test/e2e (every channel, every refusal) runs against
// Fastify and Express with Fastify's logger at level trace and svidkit's audit events going to the
// capture, and every response body and challenge goes there too. Nothing may hold a bearer token, a
// private key, a full certificate or a JWT signature. (The rest of the resilience suite runs with the
// same capture: harness/setup-capture.ts.)
import express from 'express'
import Fastify, { type FastifyServerOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { expressAdapter } from '../e2e/adapters/express.js'
import { fastifyAdapter } from '../e2e/adapters/fastify.js'
import type { E2eAdapter, RunningServer } from '../e2e/harness/adapter.js'
import { send } from '../e2e/harness/client.js'
import { createFixtures, type Fixtures, type Profile } from '../e2e/harness/fixtures.js'
import { callerScenarios } from '../e2e/harness/scenarios.js'
import { Capture, capture } from './harness/capture.js'

/** Fastify with its logger at level trace, writing into the capture. */
const loggingFastify = ((options: FastifyServerOptions = {}) =>
  Fastify({ ...options, logger: { level: 'trace', stream: capture.stream() } })) as unknown as typeof Fastify

const adapters: readonly E2eAdapter[] = [
  fastifyAdapter('@svidkit/fastify (logger at trace)', loggingFastify),
  expressAdapter('@svidkit/express', express),
]

test('the capture recognises every kind of secret (so that this file can fail)', async () => {
  const fx = await createFixtures()
  try {
    const token = await fx.jwt('spiffe://example.org/web')
    const probe = new Capture()
    probe.secretToken(token)
    const cert = fx.svids.web.certificates[0]!
    const lines = [
      `authorization: Bearer ${token}`,
      `token=${token.slice(0, token.lastIndexOf('.'))}.${token.slice(token.lastIndexOf('.') + 1)}`,
      `sig ${token.slice(token.lastIndexOf('.') + 1)}`,
      fx.svids.web.privateKeyPem.split('\n').slice(0, 2).join('\n'),
      `der ${fx.svids.web.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`,
      `cert ${cert.raw.toString('base64')}`,
      `xfcc Cert="${encodeURIComponent(cert.toString())}"`,
    ]
    for (const l of lines) probe.line('stdout', l)
    expect(probe.stats().leaks).toBe(lines.length)
    probe.line('stdout', '{"caller":"spiffe://example.org/web","code":"ERR_JWT_SVID_EXPIRED"}')
    expect(probe.stats().leaks).toBe(lines.length)
  } finally {
    await fx.close()
  }
})

describe.each(adapters.map((a) => [a.name, a] as const))('no secrets in logs: %s', (_name, adapter) => {
  let fx: Fixtures
  const servers = new Map<Profile, Promise<RunningServer>>()
  const server = (profile: Profile) => {
    let s = servers.get(profile)
    if (!s) {
      const config = fx.profiles[profile]
      s = adapter.start({
        ...config,
        verifier: { ...config.verifier, audit: { logger: capture.auditLogger(), telemetry: false } },
      })
      servers.set(profile, s)
    }
    return s
  }
  beforeAll(async () => {
    fx = await createFixtures()
  })
  afterAll(async () => {
    const started = await Promise.allSettled(servers.values())
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)))
    await fx?.close()
  })

  test('the whole caller-scenario table', async () => {
    const before = capture.stats()
    for (const scenario of callerScenarios) {
      const { url } = await server(scenario.profile ?? 'default')
      const request = await scenario.request(fx)
      const authorization = request.headers?.authorization
      for (const h of typeof authorization === 'string' ? [authorization] : (authorization ?? [])) {
        capture.secretToken(h.replace(/^Bearer /, ''))
      }
      const res = await send(url, request, fx.serverTrust)
      const want = typeof scenario.expect === 'function' ? scenario.expect(fx) : scenario.expect
      expect(res.status, scenario.name).toBe(want.status)
      capture.line('response', JSON.stringify(res.body))
      const challenge = res.headers['www-authenticate']
      if (challenge !== undefined) capture.line('response', String(challenge))
    }
    const after = capture.stats()
    // The capture saw every response and, on Fastify, the framework's log lines; audit events on both.
    expect(after.bySource.response! - (before.bySource.response ?? 0)).toBeGreaterThanOrEqual(
      callerScenarios.length,
    )
    expect(after.bySource.audit! - (before.bySource.audit ?? 0)).toBeGreaterThan(0)
    if (adapter === adapters[0]) {
      expect(after.bySource['framework-log']! - (before.bySource['framework-log'] ?? 0)).toBeGreaterThan(
        2 * callerScenarios.length,
      )
    }
    expect(capture.leaks()).toEqual([])
  })
})
