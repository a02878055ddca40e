import { type CallerVerifierInput, callerVerifierFrom } from '@svidkit/core/adapter'
import { createCallerVerifier } from '@svidkit/core/caller'
import type { Authorizer } from '@svidkit/core/policy'
import { TestCA } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'

let ca: TestCA

beforeAll(async () => {
  ca = await TestCA.create({ trustDomain: 'example.org' })
})

const op = { kind: 'http', method: 'GET', path: '/' } as const

describe('callerVerifierFrom', () => {
  test('returns a given verifier as it is', () => {
    const verifier = createCallerVerifier({ bundles: ca.bundleSet(), audit: false })
    expect(callerVerifierFrom({ verifier }, { audit: { logger: { info() {}, warn() {} } } })).toBe(verifier)
  })

  test('builds one from options, with the default audit only when audit is left undefined', async () => {
    const logged: unknown[] = []
    const logger = { info: (o: unknown) => logged.push(o), warn: (o: unknown) => logged.push(o) }
    const token = await ca.mintJwtSvid({ subject: '/web', audience: 'orders' })
    const credentials = { operation: op, authorization: `Bearer ${token}` }
    const requirement: Authorizer = {
      authorize: () => ({ decision: 'allow', rule: 'r', reason: 'ok', audit: [] }),
    }

    const withDefault = callerVerifierFrom(
      { bundles: ca.bundleSet(), jwt: { audience: 'orders' } },
      { audit: { logger, telemetry: false } },
    )
    await withDefault.verifyCaller(credentials, { requirement })
    expect(logged).toHaveLength(1)

    const off = callerVerifierFrom(
      { bundles: ca.bundleSet(), jwt: { audience: 'orders' }, audit: false },
      { audit: { logger } },
    )
    await off.verifyCaller(credentials, { requirement })
    expect(logged).toHaveLength(1)
  })

  test('refuses a non-verifier, and a verifier together with options', () => {
    const verifier = createCallerVerifier({ bundles: ca.bundleSet(), audit: false })
    const bad: [unknown, RegExp][] = [
      [null, /^options: @svidkit\/x: options must be an object$/],
      [{ verifier: {} }, /"verifier" must be a CallerVerifier/],
      [{ verifier, bundles: ca.bundleSet() }, /not both/],
      [{ bundles: {} }, /bundles/],
    ]
    for (const [input, message] of bad) {
      expect(() => callerVerifierFrom(input as CallerVerifierInput, {}, '@svidkit/x')).toThrow(
        expect.objectContaining({ code: 'ERR_OPTIONS_INVALID', message: expect.stringMatching(message) }),
      )
    }
  })
})
