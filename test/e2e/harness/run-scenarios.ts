// Runs the caller-scenario table against one adapter: one server per profile (started on first
// use), one fresh TLS connection per scenario.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { E2eAdapter, E2eClient, RunningServer } from './adapter.js'
import { send } from './client.js'
import { createFixtures, type Fixtures, type Profile } from './fixtures.js'
import { callerScenarios, type Scenario } from './scenarios.js'

const https: E2eClient = { send, httpHeaders: true }

export function runScenarios(adapter: E2eAdapter, scenarios: readonly Scenario[] = callerScenarios): void {
  const client = adapter.client ?? https
  describe(`caller scenarios: ${adapter.name}`, () => {
    let fx: Fixtures
    const servers = new Map<Profile, Promise<RunningServer>>()
    const server = (profile: Profile): Promise<RunningServer> => {
      let s = servers.get(profile)
      if (!s) {
        s = adapter.start(fx.profiles[profile])
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

    test.each(scenarios.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
      const { url } = await server(scenario.profile ?? 'default')
      const want = typeof scenario.expect === 'function' ? scenario.expect(fx) : scenario.expect
      const res = await client.send(url, await scenario.request(fx), fx.serverTrust)
      const body = res.body as { caller?: unknown; code?: unknown; message?: unknown }
      const got: Record<string, unknown> = { status: res.status }
      const wanted: Record<string, unknown> = { status: want.status }
      if (want.code !== undefined || res.status >= 400) {
        got.code = body?.code
        wanted.code = want.code
      }
      if (want.caller !== undefined) {
        got.caller = body?.caller
        wanted.caller = want.caller
      }
      // One comparison, so a failure shows status, code and caller side by side.
      expect(got, JSON.stringify(res.body)).toEqual(wanted)

      const challenge = res.headers['www-authenticate']
      if (!client.httpHeaders) expect(challenge).toBeUndefined()
      else if (want.wwwAuthenticate === null) expect(challenge).toBeUndefined()
      else if (typeof want.wwwAuthenticate === 'string') expect(challenge).toBe(want.wwwAuthenticate)
      else if (want.wwwAuthenticate instanceof RegExp) expect(challenge).toMatch(want.wwwAuthenticate)
      if (want.messageIncludes !== undefined) expect(String(body?.message)).toContain(want.messageIncludes)
      if (res.status >= 400) {
        if (client.httpHeaders) expect(res.headers['content-type']).toMatch(/^application\/json/)
        expect(body).toMatchObject({ statusCode: res.status, message: expect.any(String) })
      }
    })
  })
}
