import { httpRouting } from '@svidkit/core/caller'
import { normalizeHttpPath } from '@svidkit/core/policy'
import { describe, expect, test } from 'vitest'

describe('normalizeHttpPath', () => {
  test.each([
    ['/orders/42', '/orders/42'],
    ['/', '/'],
    ['/a//b', '/a//b'],
    ['/.well-known/x', '/.well-known/x'],
    ['/a/..b/c.', '/a/..b/c.'],
    ['/orders/%7Eadmin', '/orders/~admin'],
    ['/%41%62%2d%2E%5f%7e', '/Ab-._~'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a%20b', '/a%20b'],
    ['/items/1?x=1&y=%2F', '/items/1'],
    ['/items/1#frag', '/items/1'],
  ])('%s is normal as %s', (raw, path) => {
    expect(normalizeHttpPath(raw)).toEqual({ path, normal: true })
  })

  test.each([
    ['/a/../b', '"." or ".." segment'],
    ['/a/./b', '"." or ".." segment'],
    ['/a/..', '"." or ".." segment'],
    ['/a/.', '"." or ".." segment'],
    ['/..', '"." or ".." segment'],
    ['/a/%2e%2E/b', '"." or ".." segment'],
    ['/a/.%2e', '"." or ".." segment'],
    ['/a%2Fb', 'encoded slash or backslash'],
    ['/a%2fb', 'encoded slash or backslash'],
    ['/a%5Cb', 'encoded slash or backslash'],
    ['/a\\b', 'backslash'],
    ['/a%00', '%00'],
    ['/a%zz', 'malformed percent-escape'],
    ['/a%2', 'malformed percent-escape'],
    ['/a\nb', 'control character'],
    ['a/b', 'does not start with "/"'],
    ['', 'does not start with "/"'],
    ['*', 'does not start with "/"'],
  ])('%s is not normal (%s)', (raw, problem) => {
    const r = normalizeHttpPath(raw)
    expect(r.normal).toBe(false)
    expect(r.problem).toContain(problem)
  })

  describe("under a router's routing", () => {
    const express = httpRouting({ caseSensitive: false, strictTrailingSlash: false })
    const loose = httpRouting({
      caseSensitive: false,
      strictTrailingSlash: false,
      mergeSlashes: true,
      semicolonDelimiter: true,
    })
    test.each([
      [express, '/Orders/EXPORT', '/orders/export'],
      [express, '/orders/export/', '/orders/export'],
      [express, '/orders/export//', '/orders/export/'],
      [express, '/', '/'],
      [express, '//orders', '//orders'],
      [express, '/orders;x=1', '/orders;x=1'],
      [express, '/Orders/%7eAdmin?x=1', '/orders/~admin'],
      [express, '/caf%c3%a9', '/caf%c3%a9'],
      [loose, '//Orders//export/', '/orders/export'],
      [loose, '/orders/export;jsessionid=1', '/orders/export'],
      [loose, '/orders/%65xport;x', '/orders/export'],
      [httpRouting({ semicolonDelimiter: true }), '/Orders;a', '/Orders'],
      [httpRouting(), '/Orders/', '/Orders/'],
    ])('%j: %s is %s', (routing, raw, path) => {
      expect(normalizeHttpPath(raw, routing)).toEqual({ path, normal: true })
    })

    test.each([
      [express, '/orders/caf\u00e9', 'non-ASCII'],
      [express, '/a/../b/', '"." or ".." segment'],
      [loose, '/a//..//b', '"." or ".." segment'],
      [loose, '/a/%2e%2e;x', '"." or ".." segment'],
    ])('%j: %s is not normal (%s)', (routing, raw, problem) => {
      const r = normalizeHttpPath(raw, routing)
      expect(r.normal).toBe(false)
      expect(r.problem).toContain(problem)
    })

    test('a case-sensitive router keeps non-ASCII characters as they are', () => {
      expect(normalizeHttpPath('/caf\u00e9/', httpRouting({ strictTrailingSlash: false }))).toEqual({
        path: '/caf\u00e9',
        normal: true,
      })
    })
  })
})
