import { SpiffeId } from '@svidkit/core/spiffe-id'
import { expect, test } from 'vitest'

test('smoke', () => {
  expect(SpiffeId.parse('spiffe://example.org/a').path).toBe('/a')
})
