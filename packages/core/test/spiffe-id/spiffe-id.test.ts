import { SpiffeId, TrustDomain } from '@svidkit/core/spiffe-id'
import { codeOf } from '@svidkit/testing'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'

const TD_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789.-_'
const PATH_CHARS = `${TD_CHARS}ABCDEFGHIJKLMNOPQRSTUVWXYZ`

describe('SpiffeId.parse: go-spiffe TestFromString vectors', () => {
  test.each([
    ['spiffe://trustdomain', 'trustdomain', ''],
    ['spiffe://trustdomain/path', 'trustdomain', '/path'],
    ['spiffe://trustdomain/.path', 'trustdomain', '/.path'],
    ['spiffe://trustdomain/..path', 'trustdomain', '/..path'],
    ['spiffe://trustdomain/...', 'trustdomain', '/...'],
    ['spiffe://1.2.3.4/ipv4-looking', '1.2.3.4', '/ipv4-looking'],
  ])('%s is valid', (input, td, path) => {
    const id = SpiffeId.parse(input)
    expect(id.trustDomain.name).toBe(td)
    expect(id.path).toBe(path)
    expect(id.toString()).toBe(input)
  })

  test('every allowed trust domain and path character', () => {
    for (const c of TD_CHARS)
      expect(SpiffeId.parse(`spiffe://trustdomain${c}/path`).trustDomain.name).toBe(`trustdomain${c}`)
    for (const c of PATH_CHARS) expect(SpiffeId.parse(`spiffe://trustdomain/path${c}`).path).toBe(`/path${c}`)
  })

  test('every other byte value in the trust domain is refused', () => {
    for (let b = 0; b < 256; b++) {
      const c = String.fromCharCode(b)
      if (TD_CHARS.includes(c) || c === '/') continue
      expect(codeOf(() => SpiffeId.parse(`spiffe://trust${c}domain/path`))).toBe(
        'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS',
      )
    }
  })

  test('every other byte value in the path is refused', () => {
    for (let b = 0; b < 256; b++) {
      const c = String.fromCharCode(b)
      if (PATH_CHARS.includes(c) || c === '/') continue
      expect(codeOf(() => SpiffeId.parse(`spiffe://trustdomain/path${c}`))).toBe('ERR_SPIFFE_ID_PATH_CHARS')
    }
  })

  test.each([
    ['', 'ERR_SPIFFE_ID_EMPTY'],
    ['s', 'ERR_SPIFFE_ID_SCHEME'],
    ['spiffe:/', 'ERR_SPIFFE_ID_SCHEME'],
    ['Spiffe://', 'ERR_SPIFFE_ID_SCHEME'],
    ['SPIFFE://trustdomain', 'ERR_SPIFFE_ID_SCHEME'],
    ['https://trustdomain/path', 'ERR_SPIFFE_ID_SCHEME'],
    ['spiffe://', 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'],
    ['spiffe:///', 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'],
    ['spiffe:///path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'],
    ['spiffe://trustdomain/', 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH'],
    ['spiffe://trustdomain/path/', 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH'],
    ['spiffe://trustdomain//', 'ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT'],
    ['spiffe://trustdomain//path', 'ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT'],
    ['spiffe://trustdomain/path//other', 'ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT'],
    ['spiffe://trustdomain/.', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['spiffe://trustdomain/./path', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['spiffe://trustdomain/path/./other', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['spiffe://trustdomain/path/..', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['spiffe://trustdomain/..', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['spiffe://trustdomain/../path', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['spiffe://trustdomain/path/../other', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['spiffe://%F0%9F%A4%AF/path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
    ['spiffe://%62%61%64/path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
    ['spiffe://trustdomain/%F0%9F%A4%AF', 'ERR_SPIFFE_ID_PATH_CHARS'],
    ['spiffe://trustdomain/%62%61%64', 'ERR_SPIFFE_ID_PATH_CHARS'],
    ['spiffe://trust$domain/path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
    ['spiffe://trustdomain/path$', 'ERR_SPIFFE_ID_PATH_CHARS'],
    // SPIFFE-ID §2: no query, fragment, port, userinfo (all through the character sets).
    ['spiffe://trustdomain/path?query=1', 'ERR_SPIFFE_ID_PATH_CHARS'],
    ['spiffe://trustdomain/path#fragment', 'ERR_SPIFFE_ID_PATH_CHARS'],
    ['spiffe://trustdomain?query', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
    ['spiffe://trustdomain#frag', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
    ['spiffe://trustdomain:8080/path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
    ['spiffe://user@trustdomain/path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
    ['spiffe://user:pass@trustdomain/path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
    ['spiffe://[::1]/path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
    ['spiffe://TrustDomain/path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
    [' spiffe://trustdomain/path', 'ERR_SPIFFE_ID_SCHEME'],
    ['spiffe://trustdomain/path ', 'ERR_SPIFFE_ID_PATH_CHARS'],
    ['spiffe://trustdomain/pa\u00e9th', 'ERR_SPIFFE_ID_PATH_CHARS'],
  ])('%j is refused with %s', (input, code) => {
    expect(codeOf(() => SpiffeId.parse(input))).toBe(code)
  })

  test('messages follow "<domain>: <reason>"', () => {
    expect(() => SpiffeId.parse('spiffe://trustdomain/path/')).toThrow(
      expect.objectContaining({
        code: 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH',
        message: 'spiffeid: path cannot have a trailing slash',
      }),
    )
  })
})

describe('length limits (SPIFFE-ID §2.3, stricter than go-spiffe)', () => {
  test('a trust domain of 255 bytes is accepted, 256 refused', () => {
    const td255 = 'a'.repeat(255)
    expect(SpiffeId.parse(`spiffe://${td255}/x`).trustDomain.name).toHaveLength(255)
    expect(codeOf(() => SpiffeId.parse(`spiffe://${'a'.repeat(256)}/x`))).toBe(
      'ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG',
    )
    expect(codeOf(() => TrustDomain.parse('a'.repeat(256)))).toBe('ERR_SPIFFE_ID_TRUST_DOMAIN_TOO_LONG')
  })

  test('an ID of 2048 bytes is accepted, 2049 refused', () => {
    const prefix = 'spiffe://example.org/'
    const id2048 = prefix + 'p'.repeat(2048 - prefix.length)
    expect(SpiffeId.parse(id2048).toString()).toHaveLength(2048)
    expect(codeOf(() => SpiffeId.parse(`${id2048}q`))).toBe('ERR_SPIFFE_ID_TOO_LONG')
    expect(codeOf(() => SpiffeId.fromPath('example.org', `/${'p'.repeat(2048)}`))).toBe(
      'ERR_SPIFFE_ID_TOO_LONG',
    )
    expect(codeOf(() => SpiffeId.parse(`spiffe://example.org/${'p'.repeat(5000)}`))).toBe(
      'ERR_SPIFFE_ID_TOO_LONG',
    )
  })
})

describe('normalize option (SPIFFE-ID §2.4)', () => {
  test('off by default, lower-cases scheme and trust domain when on, never the path', () => {
    expect(codeOf(() => SpiffeId.parse('SPIFFE://Example.ORG/Path'))).toBe('ERR_SPIFFE_ID_SCHEME')
    const id = SpiffeId.parse('SPIFFE://Example.ORG/Path', { normalize: true })
    expect(id.toString()).toBe('spiffe://example.org/Path')
    expect(TrustDomain.parse('Example.ORG', { normalize: true }).name).toBe('example.org')
  })
})

describe('segments and builders (go-spiffe path_test.go)', () => {
  test('fromSegments', () => {
    expect(SpiffeId.fromSegments('trustdomain').path).toBe('')
    expect(SpiffeId.fromSegments('trustdomain', 'foo').path).toBe('/foo')
    expect(SpiffeId.fromSegments('trustdomain', 'foo', 'bar').toString()).toBe('spiffe://trustdomain/foo/bar')
    expect(codeOf(() => SpiffeId.fromSegments('trustdomain', ''))).toBe('ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT')
    expect(codeOf(() => SpiffeId.fromSegments('trustdomain', '/'))).toBe('ERR_SPIFFE_ID_PATH_CHARS')
    expect(codeOf(() => SpiffeId.fromSegments('trustdomain', '/foo'))).toBe('ERR_SPIFFE_ID_PATH_CHARS')
    expect(codeOf(() => SpiffeId.fromSegments('trustdomain', '$'))).toBe('ERR_SPIFFE_ID_PATH_CHARS')
    expect(codeOf(() => SpiffeId.fromSegments('trustdomain', '.'))).toBe('ERR_SPIFFE_ID_PATH_DOT_SEGMENT')
    expect(codeOf(() => SpiffeId.fromSegments('trustdomain', '..'))).toBe('ERR_SPIFFE_ID_PATH_DOT_SEGMENT')
  })

  test('fromPath, appendPath, replacePath', () => {
    expect(codeOf(() => SpiffeId.fromPath('trustdomain', 'foo'))).toBe('ERR_SPIFFE_ID_PATH_LEADING_SLASH')
    expect(codeOf(() => SpiffeId.fromPath('trustdomain', '/'))).toBe('ERR_SPIFFE_ID_PATH_TRAILING_SLASH')
    const id = SpiffeId.parse('spiffe://trustdomain/path')
    expect(id.appendPath('/foo').path).toBe('/path/foo')
    expect(codeOf(() => id.appendPath('foo'))).toBe('ERR_SPIFFE_ID_PATH_LEADING_SLASH')
    expect(id.appendSegments('a', 'b').path).toBe('/path/a/b')
    expect(id.replacePath('/x').toString()).toBe('spiffe://trustdomain/x')
    expect(id.segments).toEqual(['path'])
    expect(SpiffeId.parse('spiffe://td').segments).toEqual([])
    expect(SpiffeId.parse('spiffe://td').isRoot).toBe(true)
  })

  test('memberOf and equality', () => {
    const id = SpiffeId.parse('spiffe://trustdomain/path')
    expect(id.memberOf('trustdomain')).toBe(true)
    expect(id.memberOf(TrustDomain.parse('other'))).toBe(false)
    expect(id.equals('spiffe://trustdomain/path')).toBe(true)
    expect(id.equals(SpiffeId.parse('spiffe://trustdomain/path'))).toBe(true)
    expect(JSON.stringify({ id })).toBe('{"id":"spiffe://trustdomain/path"}')
  })
})

describe('properties', () => {
  test('parse(toString(x)) round-trips any valid ID built from segments', () => {
    const seg = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..')
    const td = fc.stringMatching(/^[a-z0-9._-]{1,20}$/)
    fc.assert(
      fc.property(td, fc.array(seg, { maxLength: 6 }), (t, segs) => {
        const id = SpiffeId.fromSegments(t, ...segs)
        const back = SpiffeId.parse(id.toString())
        expect(back.equals(id)).toBe(true)
        expect(back.segments).toEqual(segs)
      }),
    )
  })

  test('arbitrary input never throws anything but a SpiffeIdError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `spiffe://${s}`),
        ),
        (s) => {
          const code = codeOf(() => SpiffeId.parse(s))
          expect(code === 'OK' || code.startsWith('ERR_SPIFFE_ID_')).toBe(true)
        },
      ),
    )
  })
})
