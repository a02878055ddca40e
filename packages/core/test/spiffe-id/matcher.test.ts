import { SvidkitError } from '@svidkit/core/errors'
import {
  assertMatch,
  type Matcher,
  matchAny,
  matchId,
  matchMemberOf,
  matchOneOf,
  matchPathPrefix,
  matchPathTemplate,
  SpiffeId,
} from '@svidkit/core/spiffe-id'
import { describe, expect, test } from 'vitest'

// go-spiffe match_test.go: one row of IDs, one expected result per matcher.
const ids = [
  'spiffe://foo.test',
  'spiffe://foo.test/A',
  'spiffe://foo.test/B',
  'spiffe://foo.test/sub/C',
  'spiffe://bar.test/A',
].map((s) => SpiffeId.parse(s))

const run = (m: Matcher): (true | string)[] =>
  ids.map((id) => {
    const r = m(id)
    return r.matched ? true : r.reason
  })

describe('go-spiffe matcher vectors', () => {
  test('matchAny accepts all', () => {
    expect(run(matchAny())).toEqual([true, true, true, true, true])
  })
  test('matchId', () => {
    expect(run(matchId('spiffe://foo.test/A'))).toEqual([
      'unexpected ID "spiffe://foo.test"',
      true,
      'unexpected ID "spiffe://foo.test/B"',
      'unexpected ID "spiffe://foo.test/sub/C"',
      'unexpected ID "spiffe://bar.test/A"',
    ])
  })
  test('matchOneOf with no IDs accepts nothing; with some accepts those', () => {
    expect(run(matchOneOf()).every((r) => r !== true)).toBe(true)
    expect(run(matchOneOf('spiffe://foo.test/A', 'spiffe://bar.test/A')).map((r) => r === true)).toEqual([
      false,
      true,
      false,
      false,
      true,
    ])
  })
  test('matchMemberOf', () => {
    expect(run(matchMemberOf('foo.test'))).toEqual([
      true,
      true,
      true,
      true,
      'unexpected trust domain "bar.test"',
    ])
  })
})

describe('path prefix and templates', () => {
  test('matchPathPrefix stops at segment boundaries', () => {
    const m = matchPathPrefix('example.org', '/ns/prod')
    expect(m(SpiffeId.parse('spiffe://example.org/ns/prod')).matched).toBe(true)
    expect(m(SpiffeId.parse('spiffe://example.org/ns/prod/sa/web')).matched).toBe(true)
    expect(m(SpiffeId.parse('spiffe://example.org/ns/production')).matched).toBe(false)
    expect(m(SpiffeId.parse('spiffe://other.org/ns/prod')).matched).toBe(false)
  })

  test('named captures', () => {
    const m = matchPathTemplate('/ns/{namespace}/sa/{serviceAccount}', { trustDomain: 'cluster.local' })
    expect(m(SpiffeId.parse('spiffe://cluster.local/ns/prod/sa/web'))).toEqual({
      matched: true,
      captures: { namespace: 'prod', serviceAccount: 'web' },
    })
    expect(m(SpiffeId.parse('spiffe://cluster.local/ns/prod/sa/web/extra')).matched).toBe(false)
    expect(m(SpiffeId.parse('spiffe://cluster.local/ns/prod')).matched).toBe(false)
    expect(m(SpiffeId.parse('spiffe://other.local/ns/prod/sa/web')).matched).toBe(false)
    expect(m.description).toBe('path template "spiffe://cluster.local/ns/{namespace}/sa/{serviceAccount}"')
  })

  test('{*} and {**}', () => {
    const one = matchPathTemplate('/tenant/{*}/svc')
    expect(one(SpiffeId.parse('spiffe://a.test/tenant/x/svc'))).toEqual({ matched: true, captures: {} })
    const rest = matchPathTemplate('/{tenant}/{rest:**}')
    expect(rest(SpiffeId.parse('spiffe://a.test/acme/env/prod/api'))).toEqual({
      matched: true,
      captures: { tenant: 'acme', rest: 'env/prod/api' },
    })
    expect(rest(SpiffeId.parse('spiffe://a.test/acme'))).toEqual({
      matched: true,
      captures: { tenant: 'acme', rest: '' },
    })
    expect(matchPathTemplate('/a/{**}')(SpiffeId.parse('spiffe://a.test/b')).matched).toBe(false)
  })

  test.each(['ns/{x}', '/{x}/{x}', '/{**}/a', '/a{x}', '/{1x}', '/a/*', '/a//b', '/./a'])(
    'template %j is invalid',
    (t) => {
      expect(() => matchPathTemplate(t)).toThrowError(
        expect.objectContaining({ code: 'ERR_SPIFFE_ID_TEMPLATE_INVALID' }),
      )
    },
  )

  test('assertMatch throws ERR_SPIFFE_ID_NOT_MATCHED with the expectation in details', () => {
    const id = SpiffeId.parse('spiffe://a.test/x')
    try {
      assertMatch(matchId('spiffe://a.test/y'), id)
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(SvidkitError)
      expect((err as SvidkitError).code).toBe('ERR_SPIFFE_ID_NOT_MATCHED')
      expect((err as SvidkitError).details).toEqual({ expected: 'ID "spiffe://a.test/y"' })
    }
    expect(assertMatch(matchPathTemplate('/{name}'), id)).toEqual({ name: 'x' })
  })
})
