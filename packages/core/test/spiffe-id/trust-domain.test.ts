import { TrustDomain } from '@svidkit/core/spiffe-id'
import { codeOf } from '@svidkit/testing'
import { expect, test } from 'vitest'

// go-spiffe trustdomain_test.go
test.each([
  ['trustdomain', 'trustdomain'],
  ['spiffe://trustdomain', 'trustdomain'],
  ['spiffe://trustdomain/path', 'trustdomain'],
])('%s → %s', (input, name) => {
  const td = TrustDomain.parse(input)
  expect(td.name).toBe(name)
  expect(td.toString()).toBe(name)
  expect(td.idString()).toBe(`spiffe://${name}`)
  expect(td.id().toString()).toBe(`spiffe://${name}`)
})

test.each([
  ['', 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'],
  ['spiffe:/trustdomain/path', 'ERR_SPIFFE_ID_SCHEME'],
  ['spiffe://', 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'],
  ['spiffe:///path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_MISSING'],
  ['spiffe://trustdomain/', 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH'],
  ['spiffe://trustdomain/path/', 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH'],
  ['spiffe://%F0%9F%A4%AF/path', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
  ['spiffe://trustdomain/%F0%9F%A4%AF', 'ERR_SPIFFE_ID_PATH_CHARS'],
  ['BAD', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
  ['trust domain', 'ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS'],
])('%j is refused with %s', (input, code) => {
  expect(codeOf(() => TrustDomain.parse(input))).toBe(code)
})

test('every byte outside [a-z0-9.-_] is refused', () => {
  for (let b = 0; b < 256; b++) {
    const c = String.fromCharCode(b)
    if (/[a-z0-9._-]/.test(c)) continue
    if (c === ':' || c === '/') continue // these switch to ID parsing or are path separators
    expect(codeOf(() => TrustDomain.parse(`trustdomain${c}`))).toBe('ERR_SPIFFE_ID_TRUST_DOMAIN_CHARS')
  }
})

test('compare and equals', () => {
  const a = TrustDomain.parse('a')
  const b = TrustDomain.parse('b')
  expect(a.compare(b)).toBe(-1)
  expect(a.compare(TrustDomain.parse('a'))).toBe(0)
  expect(b.compare(a)).toBe(1)
  expect(a.equals('a')).toBe(true)
  expect(TrustDomain.tryParse('A')).toBeUndefined()
})
