import { matchId, matchMemberOf, matchOneOf, SpiffeId } from '@svidkit/core/spiffe-id'
import { parseXfcc, selectXfccCaller } from '@svidkit/core/xfcc'
import { codeOf } from '@svidkit/testing'
import { describe, expect, test } from 'vitest'

const select = (header: string, options?: Parameters<typeof selectXfccCaller>[1]) =>
  selectXfccCaller(parseXfcc(header), options)
const callerOf = (header: string, options?: Parameters<typeof selectXfccCaller>[1]) =>
  select(header, options).caller.toString()

describe('selectXfccCaller: the caller is the last element', () => {
  test('one element', () => {
    const r = select('By=spiffe://a.test/api;Hash=ab;Subject="";URI=spiffe://a.test/web')
    expect(r.caller).toBeInstanceOf(SpiffeId)
    expect(r.caller.toString()).toBe('spiffe://a.test/web')
    expect(r.index).toBe(0)
    expect(r.element.hash).toEqual(['ab'])
    expect(Object.isFrozen(r)).toBe(true)
  })

  test('APPEND_FORWARD: the last element, never the first', () => {
    const h = 'By=spiffe://a.test/gw;URI=spiffe://a.test/admin,By=spiffe://a.test/api;URI=spiffe://a.test/web'
    expect(callerOf(h)).toBe('spiffe://a.test/web')
    expect(select(h).index).toBe(1)
  })

  test('Istio ambient waypoint (no Hash) and Envoy without local URI SAN (no By)', () => {
    expect(
      callerOf('By=spiffe://cluster.local/ns/foo/sa/httpbin;URI=spiffe://cluster.local/ns/foo/sa/curl'),
    ).toBe('spiffe://cluster.local/ns/foo/sa/curl')
    expect(callerOf('Hash=abcdefg;URI=spiffe://a.test/fe')).toBe('spiffe://a.test/fe')
  })

  test.each([
    ['no URI', 'By=spiffe://a.test/api;Hash=ab', 'ERR_XFCC_NO_URI'],
    [
      'empty URI= counts as none (Envoy, peer without URI SAN)',
      'By=spiffe://a.test/api;URI=',
      'ERR_XFCC_NO_URI',
    ],
    ['two URIs', 'URI=spiffe://a.test/a;URI=spiffe://a.test/b', 'ERR_XFCC_MULTIPLE_URIS'],
    ['two URIs in two spellings', 'uri=spiffe://a.test/a;URI=spiffe://a.test/b', 'ERR_XFCC_MULTIPLE_URIS'],
    ['not a SPIFFE ID', 'URI=http://frontend.lyft.com', 'ERR_XFCC_INVALID_URI'],
    ['uppercase trust domain', 'URI=spiffe://A.test/x', 'ERR_XFCC_INVALID_URI'],
    ['percent-encoded path', 'URI=spiffe://a.test/%61dmin', 'ERR_XFCC_INVALID_URI'],
    ['trailing slash', 'URI=spiffe://a.test/x/', 'ERR_XFCC_INVALID_URI'],
    ['a trust domain ID, not a workload', 'URI=spiffe://a.test', 'ERR_XFCC_INVALID_URI'],
    ['non-ASCII path', 'URI=spiffe://a.test/ädmin', 'ERR_XFCC_INVALID_URI'],
    ['homoglyph trust domain', 'URI=spiffe://\u0430.test/x', 'ERR_XFCC_INVALID_URI'],
    ['no element', '', 'ERR_XFCC_MISSING'],
  ])('%s', (_name, header, code) => {
    expect(codeOf(() => select(header))).toBe(code)
  })

  test('an empty URI= next to a real one is ignored', () => {
    expect(callerOf('URI=;URI=spiffe://a.test/x')).toBe('spiffe://a.test/x')
  })

  test('the legacy SAN key only behind acceptLegacySan', () => {
    expect(codeOf(() => select('BY=spiffe://a.test/fe;SAN=spiffe://a.test/c'))).toBe('ERR_XFCC_NO_URI')
    expect(callerOf('BY=spiffe://a.test/fe;SAN=spiffe://a.test/c', { acceptLegacySan: true })).toBe(
      'spiffe://a.test/c',
    )
    expect(
      codeOf(() => select('SAN=spiffe://a.test/c;URI=spiffe://a.test/d', { acceptLegacySan: true })),
    ).toBe('ERR_XFCC_MULTIPLE_URIS')
  })

  test('an invalid URI error keeps the SPIFFE ID error as cause', () => {
    try {
      select('URI=spiffe://a.test/x/')
      expect.unreachable()
    } catch (err) {
      expect((err as { cause?: { code?: string } }).cause?.code).toBe('ERR_SPIFFE_ID_PATH_TRAILING_SLASH')
    }
  })
})

describe('selectXfccCaller: By', () => {
  const h = 'By=spiffe://a.test/api;By=spiffe://a.test/api-legacy;URI=spiffe://a.test/web'

  test.each([
    ['string', 'spiffe://a.test/api'],
    ['SpiffeId', SpiffeId.parse('spiffe://a.test/api')],
    ['second By value', 'spiffe://a.test/api-legacy'],
    ['matcher', matchMemberOf('a.test')],
  ])('matches with a %s', (_name, by) => {
    expect(callerOf(h, { by })).toBe('spiffe://a.test/web')
  })

  test.each([
    ['other ID', h, 'spiffe://a.test/other'],
    ['matcher refusing', h, matchId('spiffe://b.test/api')],
    ['no By at all', 'URI=spiffe://a.test/web', 'spiffe://a.test/api'],
    [
      'By that is not a SPIFFE ID, with a matcher',
      'By=http://x;URI=spiffe://a.test/web',
      matchMemberOf('a.test'),
    ],
  ])('%s → ERR_XFCC_BY_MISMATCH', (_name, header, by) => {
    expect(codeOf(() => select(header, { by }))).toBe('ERR_XFCC_BY_MISMATCH')
  })

  test('By is checked on the last element, the one our proxy wrote', () => {
    const two =
      'By=spiffe://a.test/api;URI=spiffe://a.test/x,By=spiffe://a.test/other;URI=spiffe://a.test/web'
    expect(codeOf(() => select(two, { by: 'spiffe://a.test/api' }))).toBe('ERR_XFCC_BY_MISMATCH')
  })

  test.each([['spiffe://A.test/x'], ['not an id'], [42]])('by %j is an options error', (by) => {
    expect(codeOf(() => select(h, { by: by as string }))).toBe('ERR_OPTIONS_INVALID')
  })
})

describe('selectXfccCaller: trusted hops', () => {
  // client →(mTLS) gateway [APPEND_FORWARD] →(mTLS) sidecar [APPEND_FORWARD] → app
  const chain =
    'By=spiffe://a.test/gw;URI=spiffe://a.test/client,By=spiffe://a.test/app;URI=spiffe://a.test/gw'
  const forged =
    'By=spiffe://a.test/gw;URI=spiffe://a.test/admin,By=spiffe://a.test/app;URI=spiffe://a.test/mallory'

  test('trustedHops 2 takes the element before the last', () => {
    const r = select(chain, { trustedHops: 2, trustedProxies: matchId('spiffe://a.test/gw') })
    expect(r.caller.toString()).toBe('spiffe://a.test/client')
    expect(r.index).toBe(0)
  })

  test('a workload that talks to the sidecar directly cannot prepend an element', () => {
    expect(
      codeOf(() => select(forged, { trustedHops: 2, trustedProxies: matchId('spiffe://a.test/gw') })),
    ).toBe('ERR_XFCC_HOPS')
  })

  test('without trustedProxies the low-level function trusts the hops as told', () => {
    expect(callerOf(forged, { trustedHops: 2 })).toBe('spiffe://a.test/admin')
  })

  test('fewer elements than hops', () => {
    expect(codeOf(() => select('URI=spiffe://a.test/x', { trustedHops: 2 }))).toBe('ERR_XFCC_HOPS')
  })

  test('three hops checks every forwarding element', () => {
    const three = `${chain},By=spiffe://a.test/app2;URI=spiffe://a.test/mesh-gw`
    const proxies = matchOneOf('spiffe://a.test/gw', 'spiffe://a.test/mesh-gw')
    expect(callerOf(three, { trustedHops: 3, trustedProxies: proxies })).toBe('spiffe://a.test/client')
    expect(
      codeOf(() => select(three, { trustedHops: 3, trustedProxies: matchId('spiffe://a.test/gw') })),
    ).toBe('ERR_XFCC_HOPS')
  })

  test('a forwarding element without a usable URI is a hops error', () => {
    const bad = 'URI=spiffe://a.test/client,By=spiffe://a.test/app;URI='
    expect(codeOf(() => select(bad, { trustedHops: 2, trustedProxies: matchMemberOf('a.test') }))).toBe(
      'ERR_XFCC_HOPS',
    )
  })

  test.each([[0], [-1], [1.5], ['2']])('trustedHops %j is an options error', (trustedHops) => {
    expect(codeOf(() => select(chain, { trustedHops: trustedHops as number }))).toBe('ERR_OPTIONS_INVALID')
  })

  test('trustedProxies must be a matcher', () => {
    expect(codeOf(() => select(chain, { trustedProxies: 'spiffe://a.test/gw' as never }))).toBe(
      'ERR_OPTIONS_INVALID',
    )
  })
})
