import { httpRouting } from '@svidkit/core/caller'
import { codeOf } from '@svidkit/testing'
import { describe, expect, test } from 'vitest'

describe('httpRouting', () => {
  test('defaults are exact matching with HEAD served by GET', () => {
    expect(httpRouting()).toEqual({
      caseSensitive: true,
      strictTrailingSlash: true,
      mergeSlashes: false,
      semicolonDelimiter: false,
      headAsGet: true,
    })
  })

  test('the same settings give the same frozen object', () => {
    const a = httpRouting({ caseSensitive: false, strictTrailingSlash: false })
    expect(httpRouting({ strictTrailingSlash: false, caseSensitive: false })).toBe(a)
    expect(Object.isFrozen(a)).toBe(true)
    expect(httpRouting({ caseSensitive: true })).toBe(httpRouting())
    expect(httpRouting({ headAsGet: false })).not.toBe(httpRouting())
  })

  test.each([
    [{ caseSensitive: 'no' }, '"caseSensitive" must be a boolean'],
    [{ ignoreCase: true }, 'unknown option "ignoreCase"'],
    [null, 'options must be an object'],
  ])('%j is refused', (options, message) => {
    expect(codeOf(() => httpRouting(options as never))).toBe('ERR_OPTIONS_INVALID')
    expect(() => httpRouting(options as never)).toThrow(message)
  })
})
