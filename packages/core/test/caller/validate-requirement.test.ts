import { createCallerVerifier, type RouteRequirement, validateRequirement } from '@svidkit/core/caller'
import { TestCA } from '@svidkit/testing'
import { describe, expect, test } from 'vitest'

describe('validateRequirement', () => {
  test('accepts boundary keys before the identity templates are known', () => {
    expect(() =>
      validateRequirement({ boundary: { tenant: { sameAs: 'self' }, env: { in: ['prod'] } } }),
    ).not.toThrow()
    expect(() => validateRequirement({ boundary: { trustDomain: { equals: 'example.org' } } })).not.toThrow()
    expect(() =>
      validateRequirement({ callers: ['spiffe://example.org/ns/{*}/sa/web'], scopes: { anyOf: ['a'] } }),
    ).not.toThrow()
  })

  test('refuses everything else createRequirement refuses, as ERR_OPTIONS_INVALID', () => {
    const bad: unknown[] = [
      null,
      { callerz: [] },
      { scopes: 'orders:read' },
      { boundary: { tenant: { sameAs: 'me' } } },
      { boundary: { 'ten-ant': { sameAs: 'self' } } },
      { boundary: { tenant: { equals: 'a', in: ['b'] } } },
      { trustDomains: ['not a domain!'] },
    ]
    for (const spec of bad) {
      expect(() => validateRequirement(spec as RouteRequirement), JSON.stringify(spec)).toThrow(
        expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
      )
    }
  })

  test('a boundary key the verifier templates do not capture is refused when the verifier compiles it', async () => {
    const ca = await TestCA.create({ trustDomain: 'example.org' })
    const spec: RouteRequirement = { boundary: { region: { sameAs: 'self' } } }
    validateRequirement(spec)
    const verifier = createCallerVerifier({
      bundles: ca.bundleSet(),
      identityTemplates: ['/tenant/{tenant}/{service}'],
      audit: false,
    })
    expect(() => verifier.requirement(spec)).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  })
})
