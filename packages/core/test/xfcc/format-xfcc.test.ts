import { XfccError } from '@svidkit/core/errors'
import { formatXfcc, parseXfcc, type XfccElement } from '@svidkit/core/xfcc'
import { codeOf } from '@svidkit/testing'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { plain } from './helpers.js'

describe('formatXfcc', () => {
  test('writes Envoy spelling, quotes Subject/Cert/Chain, joins with "," and no space', () => {
    expect(
      formatXfcc([
        { by: ['spiffe://a.test/fe'], hash: ['ab'], uri: ['spiffe://a.test/c'] },
        {
          by: ['spiffe://a.test/be', 'spiffe://a.test/be2'],
          hash: ['cd'],
          subject: ['CN=x,O=y'],
          uri: ['spiffe://a.test/fe'],
          dns: ['a.test', 'www.a.test'],
          cert: ['%3D'],
          chain: ['%3D%3D'],
        },
      ]),
    ).toBe(
      'By=spiffe://a.test/fe;Hash=ab;URI=spiffe://a.test/c,' +
        'By=spiffe://a.test/be;By=spiffe://a.test/be2;Hash=cd;Subject="CN=x,O=y";URI=spiffe://a.test/fe;DNS=a.test;DNS=www.a.test;Cert="%3D";Chain="%3D%3D"',
    )
  })

  test('quotes and escapes only when needed', () => {
    expect(formatXfcc([{ x: ['plain value'] }])).toBe('x=plain value')
    expect(formatXfcc([{ x: ['a;b'] }])).toBe('x="a;b"')
    expect(formatXfcc([{ x: ['a"b\\c'] }])).toBe('x="a\\"b\\\\c"')
    expect(formatXfcc([{ x: [' lead'] }])).toBe('x=" lead"')
    expect(formatXfcc([{ uri: [''] }])).toBe('URI=')
    expect(formatXfcc([{ subject: [''] }])).toBe('Subject=""')
  })

  test('reproduces the Envoy integration-test header', () => {
    const header =
      'By=spiffe://lyft.com/frontend;Hash=123456;URI=spiffe://lyft.com/testclient,' +
      'By=spiffe://lyft.com/backend-team;Hash=abc;Subject="emailAddress=frontend-team@lyft.com,CN=Test Frontend Team";URI=spiffe://lyft.com/frontend-team;DNS=lyft.com;DNS=www.lyft.com'
    expect(formatXfcc(parseXfcc(header))).toBe(header)
  })

  test('keeps unknown keys as written and skips undefined ones', () => {
    expect(formatXfcc([{ Issuer: ['CN=ca'], by: undefined, uri: ['spiffe://a.test/x'] }])).toBe(
      'Issuer="CN=ca";URI=spiffe://a.test/x',
    )
  })

  test.each([
    ['no element value', [{}], 'ERR_XFCC_MALFORMED'],
    ['empty value list only', [{ by: [] }], 'ERR_XFCC_MALFORMED'],
    ['bad key', [{ 'a b': ['x'] }], 'ERR_XFCC_MALFORMED'],
    ['non-ASCII key', [{ é: ['x'] }], 'ERR_XFCC_MALFORMED'],
    ['control character', [{ x: ['a\nb'] }], 'ERR_XFCC_MALFORMED'],
    ['non-string value', [{ x: [1] }], 'ERR_XFCC_MALFORMED'],
    ['non-array values', [{ x: 'a' }], 'ERR_XFCC_MALFORMED'],
    ['non-object element', [null], 'ERR_XFCC_MALFORMED'],
    ['two Cert', [{ cert: ['a', 'b'] }], 'ERR_XFCC_DUPLICATE_KEY'],
    ['Hash in two spellings', [{ hash: ['a'], Hash: ['b'] }], 'ERR_XFCC_DUPLICATE_KEY'],
  ])('%s', (_name, elements, code) => {
    expect(codeOf(() => formatXfcc(elements as unknown as XfccElement[]))).toBe(code)
  })

  test('not an array', () => {
    expect(codeOf(() => formatXfcc('x' as unknown as XfccElement[]))).toBe('ERR_XFCC_MALFORMED')
  })
})

// Values: any printable text, biased towards the characters that need quoting or escaping.
const special = fc.constantFrom(',', ';', '=', '"', '\\', ' ', '\t', '\\"', '\\\\', 'é', '✓', '\u00ff')
const valueArb = fc
  .array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 6 }), special), { maxLength: 8 })
  .map((parts) => parts.join(''))
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is excluded.
  .filter((v) => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(v))
const keyArb = fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,8}$/)
const elementArb = fc
  .dictionary(keyArb, fc.array(valueArb, { minLength: 1, maxLength: 3 }), { minKeys: 1, maxKeys: 6 })
  .map((el) => {
    // Cert, Chain and Hash carry one value.
    for (const k of ['cert', 'chain', 'hash']) if (el[k]) el[k] = el[k].slice(0, 1)
    return el
  })

describe('formatXfcc / parseXfcc properties', () => {
  test('parseXfcc(formatXfcc(elements)) gives the elements back', () => {
    fc.assert(
      fc.property(fc.array(elementArb, { minLength: 1, maxLength: 4 }), (elements) => {
        const header = formatXfcc(elements)
        expect(plain(parseXfcc(header))).toEqual(plain(elements))
      }),
      { numRuns: 500 },
    )
  })

  test('the lines of a formatted header can also be passed as headersDistinct', () => {
    fc.assert(
      fc.property(fc.array(elementArb, { minLength: 1, maxLength: 4 }), (elements) => {
        const lines = elements.map((e) => formatXfcc([e]))
        expect(plain(parseXfcc(lines))).toEqual(plain(elements))
        expect(plain(parseXfcc(lines.join(', ')))).toEqual(plain(elements))
      }),
      { numRuns: 200 },
    )
  })

  test('the parser throws nothing but XfccError on arbitrary text', () => {
    const alphabet = fc.constantFrom('a', 'B', '=', ';', ',', '"', '\\', ' ', '\t', '\u0000', '\n', 'é', '%')
    const textArb = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.array(alphabet, { maxLength: 60 }).map((a) => a.join('')),
    )
    fc.assert(
      fc.property(fc.oneof(textArb, fc.array(textArb, { maxLength: 3 })), (input) => {
        try {
          const elements = parseXfcc(input)
          for (const el of elements) {
            expect(Object.keys(el).length).toBeGreaterThan(0)
            for (const [k, v] of Object.entries(el)) {
              expect(k).toBe(k.toLowerCase())
              expect(Array.isArray(v)).toBe(true)
            }
          }
        } catch (err) {
          if (!(err instanceof XfccError)) throw err
          expect(err.code).toMatch(/^ERR_XFCC_(MALFORMED|DUPLICATE_KEY|TOO_LARGE)$/)
        }
      }),
      { numRuns: 2000 },
    )
  })

  test('a successfully parsed header formats to something that parses the same', () => {
    const alphabet = fc.constantFrom('a', 'B', '=', ';', ',', '"', '\\', ' ', 'x')
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), (chars) => {
        let parsed: XfccElement[]
        try {
          parsed = parseXfcc(chars.join(''))
        } catch {
          return
        }
        if (parsed.length === 0) return
        expect(plain(parseXfcc(formatXfcc(parsed)))).toEqual(plain(parsed))
      }),
      { numRuns: 2000 },
    )
  })
})
