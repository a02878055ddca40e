import { codeOf, parseDevAgentConfig } from '@svidkit/testing'
import { describe, expect, test } from 'vitest'

describe('parseDevAgentConfig: input bounds', () => {
  test('deep flow nesting is refused before the YAML parser sees it (it would abort the process)', () => {
    for (let i = 0; i < 3; i++) {
      expect(codeOf(() => parseDevAgentConfig('['.repeat(5000)))).toBe('ERR_OPTIONS_INVALID')
    }
    expect(() => parseDevAgentConfig(`identities: ${'['.repeat(40)}`, { source: 'agent.yaml' })).toThrow(
      'agent.yaml: the configuration is nested more than 32 levels deep',
    )
  })

  test('an oversized configuration is refused; a normal one still parses', () => {
    expect(() => parseDevAgentConfig(`# ${'x'.repeat(300 * 1024)}\nidentities: [/web]`)).toThrow(
      'the configuration is larger than 262144 bytes',
    )
    const options = parseDevAgentConfig('trustDomain: example.org\nidentities: [/web, {spiffeId: /api}]\n')
    expect(options.trustDomain).toBe('example.org')
  })
})
