import { readBearerToken } from '@svidkit/core/adapter'
import type { SvidkitError } from '@svidkit/core/errors'
import { codeOf } from '@svidkit/testing'
import { describe, expect, test } from 'vitest'

// A fresh copy of a string, as each HTTP request hands over its own header strings.
const fresh = (s: string): string => Buffer.from(s, 'latin1').toString('latin1')

describe('readBearerToken', () => {
  test('reads Bearer tokens, ignores other schemes, refuses malformed or repeated headers', () => {
    expect(readBearerToken(undefined)).toBeUndefined()
    expect(readBearerToken('')).toBeUndefined()
    expect(readBearerToken([])).toBeUndefined()
    expect(readBearerToken('Bearer abc.def-_~+/=')).toBe('abc.def-_~+/=')
    expect(readBearerToken('bEaReR abc')).toBe('abc')
    expect(readBearerToken(['Bearer abc'])).toBe('abc')
    expect(readBearerToken('Basic dXNlcg==')).toBeUndefined()
    expect(codeOf(() => readBearerToken('Bearer'))).toBe('ERR_CREDENTIALS_MALFORMED')
    expect(codeOf(() => readBearerToken('Bearer a b'))).toBe('ERR_CREDENTIALS_MALFORMED')
    expect(codeOf(() => readBearerToken('Bearer '))).toBe('ERR_CREDENTIALS_MALFORMED')
    expect(codeOf(() => readBearerToken(['Bearer a', 'Bearer a']))).toBe('ERR_CREDENTIALS_MALFORMED')
  })

  test('Bearer followed by anything but one space and a token is refused, never ignored', () => {
    expect(readBearerToken(null)).toBeUndefined()
    for (const header of [
      'Bearer\tabc',
      'Bearer  abc',
      'Bearer abc ',
      'Bearer \tabc',
      'BEARER\tabc',
      'Bearer\t',
      // Blanks before the scheme (HTTP/2 and gRPC metadata keep them; HTTP/1 strips them).
      ' Bearer abc',
      '\t bearer abc ',
      '  Bearer',
    ]) {
      expect(
        codeOf(() => readBearerToken(header)),
        JSON.stringify(header),
      ).toBe('ERR_CREDENTIALS_MALFORMED')
    }
    // Another scheme that merely starts with the same letters is not ours.
    expect(readBearerToken('Bearerx abc')).toBeUndefined()
    expect(readBearerToken('Token abc')).toBeUndefined()
    expect(readBearerToken(' Basic dXNlcg==')).toBeUndefined()
    expect(readBearerToken('  Bearerx abc')).toBeUndefined()
    expect(codeOf(() => readBearerToken(42 as never))).toBe('ERR_CREDENTIALS_MALFORMED')
  })

  test('repeated headers (remembered) give the same answers as new ones, whatever came between', () => {
    const headers = [
      'Bearer aaa.bbb.ccc',
      'Bearer aaa.bbb.ccd',
      'Bearer a b',
      'Basic aaa.bbb.ccc',
      'Bearer aaa.bbb.cce',
      'Bearer aaa.bbb.ccf',
      'Bearer aaa.bbb.ccg',
      'Bearer aaa.bbb.cc"',
    ]
    const expected = headers.map((h) => {
      try {
        return readBearerToken(fresh(h))
      } catch (err) {
        return (err as SvidkitError).code
      }
    })
    expect(expected).toEqual([
      'aaa.bbb.ccc',
      'aaa.bbb.ccd',
      'ERR_CREDENTIALS_MALFORMED',
      undefined,
      'aaa.bbb.cce',
      'aaa.bbb.ccf',
      'aaa.bbb.ccg',
      'ERR_CREDENTIALS_MALFORMED',
    ])
    for (let round = 0; round < 3; round++) {
      for (const [i, h] of headers.entries()) {
        let got: string | undefined
        try {
          got = readBearerToken(fresh(h))
        } catch (err) {
          got = (err as SvidkitError).code
        }
        expect(got).toBe(expected[i])
      }
    }
  })
})
