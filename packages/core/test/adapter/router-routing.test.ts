// The readers work on the shapes Fastify and Express expose (structural, core imports no framework);
// the adapters' routing tables (test/e2e/routing.test.ts) check them against the real routers.
import { expressRouting, fastifyRouting } from '@svidkit/core/adapter'
import { httpRouting } from '@svidkit/core/caller'
import { describe, expect, test } from 'vitest'

describe('fastifyRouting', () => {
  // As Fastify 5's initialConfig reports them (validated, defaults filled in).
  const base = {
    caseSensitive: true,
    ignoreTrailingSlash: false,
    ignoreDuplicateSlashes: false,
    useSemicolonDelimiter: false,
    exposeHeadRoutes: true,
  }
  test.each([
    [base, httpRouting()],
    [{ ...base, caseSensitive: false }, httpRouting({ caseSensitive: false })],
    [
      { ...base, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
      httpRouting({ strictTrailingSlash: false, mergeSlashes: true }),
    ],
    [
      {
        ...base,
        routerOptions: { caseSensitive: false, useSemicolonDelimiter: true, ignoreTrailingSlash: false },
      },
      httpRouting({ caseSensitive: false, semicolonDelimiter: true }),
    ],
    [{ ...base, exposeHeadRoutes: false }, httpRouting({ headAsGet: false })],
    // Fastify 4: ";" splits paths by default.
    [{ ...base, useSemicolonDelimiter: true }, httpRouting({ semicolonDelimiter: true })],
  ])('%j', (config, want) => {
    expect(fastifyRouting(config)).toBe(want)
  })
})

describe('expressRouting', () => {
  const router = (caseSensitive: boolean | undefined, strict: boolean | undefined, stack: object[] = []) =>
    Object.assign(() => {}, { caseSensitive, strict, stack })

  test("the app's router settings (Express 5 `router`, Express 4 `_router`)", () => {
    expect(expressRouting({ router: router(false, false) })).toBe(
      httpRouting({ caseSensitive: false, strictTrailingSlash: false }),
    )
    expect(expressRouting({ _router: router(true, true) })).toBe(httpRouting())
  })

  test('mounted routers must agree with the app; routes are not routers', () => {
    const agreeing = router(false, false, [
      { handle: router(undefined, undefined) },
      { route: {}, handle: () => {} },
    ])
    expect(expressRouting({ router: agreeing })).toBe(
      httpRouting({ caseSensitive: false, strictTrailingSlash: false }),
    )
    const mixed = router(false, false, [{ handle: router(true, false) }])
    expect(() => expressRouting({ router: mixed }, 'test')).toThrow(
      expect.objectContaining({
        code: 'ERR_OPTIONS_INVALID',
        message: expect.stringContaining('routers do not match'),
      }),
    )
    expect(() => expressRouting({}, 'test')).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  })

  test('read again when the app gains layers', () => {
    const root = router(false, false, [])
    const app = { router: root }
    expect(expressRouting(app)).toBe(httpRouting({ caseSensitive: false, strictTrailingSlash: false }))
    ;(root.stack as object[]).push({ handle: router(true, true) })
    expect(() => expressRouting(app)).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  })
})
