import { createXfccExtractor, parseXfcc, selectXfccCaller } from '@svidkit/core/xfcc'
import { codeOf } from '@svidkit/testing'
import { describe, expect, test } from 'vitest'
import { plain } from './helpers.js'

// What Envoy appends (APPEND_FORWARD, Subject + URI) for the real client `spiffe://a.test/web`.
const REAL = 'By=spiffe://a.test/api;Hash=0a1b;Subject="CN=web,O=Example";URI=spiffe://a.test/web'
const loopback = { peerAddress: '127.0.0.1' }
const extractor = createXfccExtractor({ by: 'spiffe://a.test/api' })
const callerOf = (header: string | string[]): string | undefined =>
  extractor.extract({ header, ...loopback })?.caller.toString()
/** The caller, or the code of the error: never throws. */
const outcome = (header: string | string[]): string | undefined => {
  let caller: string | undefined
  const code = codeOf(() => {
    caller = callerOf(header)
  })
  return code === 'OK' ? caller : code
}

describe('injection through a certificate Subject', () => {
  test('an RFC 2253-escaped Subject carrying ";Cert=" stays one value', () => {
    // OpenSSL escapes `;` and `"` inside a DN; Envoy quotes the Subject without escaping further.
    const h =
      'By=spiffe://a.test/api;Hash=0a1b;Subject="CN=evil\\;Cert=\\"forged\\";URI=spiffe://a.test/admin";URI=spiffe://a.test/web'
    const [el] = parseXfcc(h)
    expect(el?.cert).toBeUndefined()
    expect(el?.uri).toEqual(['spiffe://a.test/web'])
    expect(el?.subject).toEqual(['CN=evil\\;Cert="forged";URI=spiffe://a.test/admin'])
    expect(callerOf(h)).toBe('spiffe://a.test/web')
  })

  test('a slash-form Subject with ";" and "," inside quotes stays one value', () => {
    const h =
      'Subject="/CN=a;Cert=x,URI=spiffe://a.test/admin";By=spiffe://a.test/api;URI=spiffe://a.test/web'
    expect(callerOf(h)).toBe('spiffe://a.test/web')
  })

  test('a Subject that breaks out of its quotes and adds a Cert is a duplicate key', () => {
    // Only possible if a proxy failed to escape `"`: Envoy's own Cert follows and collides.
    const h =
      'By=spiffe://a.test/api;Hash=0a1b;Subject="CN=a";Cert="forged";x="b";URI=spiffe://a.test/web;Cert="real"'
    expect(codeOf(() => parseXfcc(h))).toBe('ERR_XFCC_DUPLICATE_KEY')
    expect(codeOf(() => callerOf(h))).toBe('ERR_XFCC_DUPLICATE_KEY')
  })

  test('a Subject that breaks out and adds a URI gives two URIs, not the attacker', () => {
    const h = 'By=spiffe://a.test/api;Subject="CN=a";URI=spiffe://a.test/admin;x="";URI=spiffe://a.test/web'
    expect(codeOf(() => callerOf(h))).toBe('ERR_XFCC_MULTIPLE_URIS')
  })

  test('a Subject that breaks out and adds a Hash collides with the real Hash', () => {
    const h = 'By=spiffe://a.test/api;Subject="CN=a";Hash=00;x="";Hash=0a1b;URI=spiffe://a.test/web'
    expect(codeOf(() => parseXfcc(h))).toBe('ERR_XFCC_DUPLICATE_KEY')
  })

  test('a Subject that breaks out and opens an element ends up malformed', () => {
    const h = 'By=spiffe://a.test/api;Subject="CN=a",URI=spiffe://a.test/admin,x="";URI=spiffe://a.test/web'
    // The attacker's text now spans elements; whatever happens, it must not yield "admin".
    expect(outcome(h)).not.toBe('spiffe://a.test/admin')
    expect(outcome(h)).toBe('ERR_XFCC_BY_MISMATCH') // the last element lost its By
  })
})

describe('injection with quotes and backslashes', () => {
  test('a trailing backslash cannot escape the closing quote', () => {
    // An RFC 2253 DN ending in an escaped backslash: `CN=a\\` → XFCC `"CN=a\\\\"` (even run).
    const h = 'By=spiffe://a.test/api;Subject="CN=a\\\\";URI=spiffe://a.test/web'
    expect(plain(parseXfcc(h))[0]?.subject).toEqual(['CN=a\\'])
    expect(callerOf(h)).toBe('spiffe://a.test/web')
  })

  test('an odd run swallows the rest into the value and ends unmatched', () => {
    const h = 'By=spiffe://a.test/api;Subject="CN=a\\";URI=spiffe://a.test/web'
    expect(codeOf(() => callerOf(h))).toBe('ERR_XFCC_MALFORMED')
  })

  test('an unescaped quote in the middle of an unquoted value is refused', () => {
    expect(
      codeOf(() =>
        callerOf('By=spiffe://a.test/api;X=a"b;URI=spiffe://a.test/admin";URI=spiffe://a.test/web'),
      ),
    ).toBe('ERR_XFCC_MALFORMED')
  })
})

describe('client-supplied elements (APPEND_FORWARD)', () => {
  test('a client-prepended element is never the caller', () => {
    const h = `By=spiffe://a.test/api;URI=spiffe://a.test/admin,${REAL}`
    expect(callerOf(h)).toBe('spiffe://a.test/web')
  })

  test('several prepended elements change nothing', () => {
    const fake = 'By=spiffe://a.test/api;URI=spiffe://a.test/admin'
    expect(callerOf(`${fake},${fake},${fake},${REAL}`)).toBe('spiffe://a.test/web')
  })

  test.each([
    ['an open quote', 'X="'],
    ['an open quote and text', 'By=spiffe://a.test/api;URI="spiffe://a.test/admin'],
    ['an open quote then an element', 'X=",By=spiffe://a.test/api;URI=spiffe://a.test/admin;Y="'],
    ['an odd backslash run before a quote', 'X="a\\'],
  ])('a client prefix with %s cannot swallow the real element', (_name, prefix) => {
    const r = outcome(`${prefix},${REAL}`)
    expect(['spiffe://a.test/web', 'ERR_XFCC_MALFORMED']).toContain(r)
  })

  test('a client prefix ending in a comma makes an empty element', () => {
    expect(codeOf(() => callerOf(`By=x;URI=spiffe://a.test/admin,,${REAL}`))).toBe('ERR_XFCC_MALFORMED')
  })
})

describe('duplicate header lines', () => {
  const clientLine = 'By=spiffe://a.test/api;URI=spiffe://a.test/admin'

  test('headersDistinct: the last line holds the last element', () => {
    expect(callerOf([clientLine, REAL])).toBe('spiffe://a.test/web')
  })

  test('Node\'s ", " join reads the same', () => {
    expect(callerOf(`${clientLine}, ${REAL}`)).toBe('spiffe://a.test/web')
  })

  test('a quote opened on one line cannot reach the next', () => {
    expect(codeOf(() => callerOf(['X="', REAL]))).toBe('ERR_XFCC_MALFORMED')
  })

  test('a proxy line sent first and a client line last is the client: trust the proxy mode, not the order', () => {
    // Documented limitation: if a proxy adds its own line before a client line, nothing in the
    // header tells them apart. SANITIZE_SET / APPEND_FORWARD never produce this.
    expect(callerOf([REAL, clientLine])).toBe('spiffe://a.test/admin')
  })
})

describe('size, unicode and control characters', () => {
  test('an oversized header is refused before parsing', () => {
    const big = `${'By=spiffe://a.test/api;URI=spiffe://a.test/admin,'.repeat(400)}${REAL}`
    expect(big.length).toBeGreaterThan(16384)
    expect(codeOf(() => callerOf(big))).toBe('ERR_XFCC_TOO_LARGE')
  })

  test.each([
    ['NUL after the URI', 'By=spiffe://a.test/api;URI=spiffe://a.test/web\u0000admin'],
    ['CRLF header smuggling', 'By=spiffe://a.test/api;URI=spiffe://a.test/web\r\nX-Evil: 1'],
    ['LF in a quoted Subject', 'By=spiffe://a.test/api;Subject="a\nb";URI=spiffe://a.test/web'],
    ['ESC', 'By=spiffe://a.test/api;URI=spiffe://a.test/web\u001b[31m'],
  ])('%s is malformed', (_name, h) => {
    expect(codeOf(() => callerOf(h))).toBe('ERR_XFCC_MALFORMED')
  })

  test.each([
    ['Cyrillic a in the trust domain', 'By=spiffe://a.test/api;URI=spiffe://\u0430.test/web'],
    ['fullwidth solidus', 'By=spiffe://a.test/api;URI=spiffe://a.test\uff0fweb'],
    ['zero-width space', 'By=spiffe://a.test/api;URI=spiffe://a.test/we\u200bb'],
    ['combining mark', 'By=spiffe://a.test/api;URI=spiffe://a.test/web\u0301'],
  ])('%s in URI is an invalid URI', (_name, h) => {
    expect(codeOf(() => callerOf(h))).toBe('ERR_XFCC_INVALID_URI')
  })

  test('unicode in Subject is opaque and harmless', () => {
    expect(callerOf('By=spiffe://a.test/api;Subject="CN=Jürgen ✓";URI=spiffe://a.test/web')).toBe(
      'spiffe://a.test/web',
    )
  })

  test('a By lookalike does not pass the By check', () => {
    expect(codeOf(() => callerOf('By=spiffe://a.test/api\u200b;URI=spiffe://a.test/web'))).toBe(
      'ERR_XFCC_BY_MISMATCH',
    )
  })

  test('selectXfccCaller refuses a URI that only differs by case', () => {
    expect(codeOf(() => selectXfccCaller(parseXfcc('URI=SPIFFE://a.test/web')))).toBe('ERR_XFCC_INVALID_URI')
  })
})
