import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PolicyError } from '@svidkit/core/errors'
import {
  callerFromId,
  createPolicyAuthorizer,
  definePolicy,
  lintPolicy,
  loadPolicy,
  loadPolicyFile,
  type PolicyDocument,
  type PolicyProblem,
  policySchema,
} from '@svidkit/core/policy'
import { afterAll, describe, expect, test } from 'vitest'

/** 1-based line/column of the `nth` occurrence of `token`. */
function pos(text: string, token: string, nth = 0): { line: number; column: number } {
  let at = -1
  for (let i = 0; i <= nth; i++) at = text.indexOf(token, at + 1)
  if (at === -1) throw new Error(`token ${token} not in text`)
  const before = text.slice(0, at).split('\n')
  return { line: before.length, column: before[before.length - 1]!.length + 1 }
}

function loadError(text: string, filename?: string): PolicyError {
  try {
    loadPolicy(text, filename === undefined ? {} : { filename })
  } catch (err) {
    if (err instanceof PolicyError) return err
    throw err
  }
  throw new Error('expected loadPolicy to throw')
}

describe('malformed policies: code, message, JSON path and position', () => {
  // Regression (issue 16, found by fuzzing): parsing deeply nested text twice aborted the whole
  // process ("FATAL ERROR: RegExpCompiler Allocation failed"), from a stack overflow inside the YAML
  // parser. Deep text is now refused before it is parsed; a regression would crash this worker.
  test.each([
    ['flow sequences', '['.repeat(2000)],
    ['flow mappings', '{a: '.repeat(2000)],
    ['compact block sequences', `${'- '.repeat(2000)}x`],
    ['indentation', Array.from({ length: 400 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')],
  ])('text nested too deeply (%s) is a PolicyError, every time', (_kind, text) => {
    for (let k = 0; k < 3; k++) {
      const err = loadError(text)
      expect(err.code).toBe('ERR_POLICY_INVALID')
      expect(err.message).toBe('policy: policy text is nested more than 128 levels deep')
    }
  })

  test('YAML the library would warn about (a collection as a key) is an error, never a process warning', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.message)
    process.on('warning', onWarning)
    try {
      expect(loadError('[a]: 1\n{b: c}: 2\n').code).toBe('ERR_POLICY_INVALID')
      await new Promise((r) => setImmediate(r))
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings).toEqual([])
  })

  test('a policy nested within the limit still loads', () => {
    const deep = `version: 1\ndefaultAction: deny\nrules: []\nx-note: ${'['.repeat(100)}${']'.repeat(100)}\n`
    expect(loadError(deep).message).toContain('x-note')
  })

  test('the issue example: unknown key at rules[2].from[0] on line 14, column 9', () => {
    const text = [
      'version: 1',
      'defaultAction: deny',
      'rules:',
      '  - id: one',
      '    from:',
      "      - principals: ['spiffe://example.org/a']",
      '  - id: two',
      '    from:',
      "      - principals: ['spiffe://example.org/b']",
      '  - id: three',
      '    to:',
      '      - methods: [GET]',
      '    from:',
      "      - principalz: ['spiffe://example.org/c']",
      '',
    ].join('\n')
    const err = loadError(text)
    expect(err.code).toBe('ERR_POLICY_INVALID')
    expect(err.message).toBe(
      'policy: rules[2].from[0].principalz: unknown key, did you mean "principals"? (line 14, column 9)',
    )
    expect(err.details).toMatchObject({ path: 'rules[2].from[0].principalz', line: 14, column: 9 })
  })

  const cases: { name: string; text: string; path: string; message: string; at: [string, number?] }[] = [
    {
      name: 'unknown rule key',
      text: 'rules:\n  - id: a\n    acton: DENY\n',
      path: 'rules[0].acton',
      message: 'unknown key, did you mean "action"?',
      at: ['acton'],
    },
    {
      name: 'unknown key without a close match',
      text: 'rules:\n  - id: a\n    hosts: [example.org]\n',
      path: 'rules[0].hosts',
      message: 'rules[0].hosts: unknown key (line',
      at: ['hosts'],
    },
    {
      name: 'lower-case action',
      text: 'rules:\n  - id: a\n    action: allow\n',
      path: 'rules[0].action',
      message: 'must be one of "ALLOW", "DENY", "AUDIT"',
      at: ['allow'],
    },
    {
      name: 'from is not an array',
      text: "rules:\n  - from: { principals: ['spiffe://a.test/x'] }\n",
      path: 'rules[0].from',
      message: 'must be an array',
      at: ['{ principals'],
    },
    {
      name: 'empty list',
      text: 'rules:\n  - from:\n      - principals: []\n',
      path: 'rules[0].from[0].principals',
      message: 'must not be empty',
      at: ['[]'],
    },
    {
      name: 'invalid SPIFFE ID',
      text: "rules:\n  - from:\n      - principals: ['spiffe://example.org/ok', 'spiffe://Example.org/a']\n",
      path: 'rules[0].from[0].principals[1]',
      message: '"spiffe://Example.org/a" is not a valid SPIFFE ID',
      at: ["'spiffe://Example"],
    },
    {
      name: '* in the middle',
      text: "rules:\n  - from:\n      - principals: ['spiffe://example.org/*/x']\n",
      path: 'rules[0].from[0].principals[0]',
      message: '"*" is only allowed at the start',
      at: ["'spiffe"],
    },
    {
      name: 'invalid principal template',
      text: "rules:\n  - from:\n      - principals: ['spiffe://example.org/ns/{ns}/sa/{ns}']\n",
      path: 'rules[0].from[0].principals[0]',
      message: 'capture "ns" appears twice',
      at: ["'spiffe"],
    },
    {
      name: '{**} not last',
      text: "rules:\n  - to:\n      - paths: ['/a/{**}/b']\n",
      path: 'rules[0].to[0].paths[0]',
      message: '"{**}" must be the last segment',
      at: ["'/a"],
    },
    {
      name: 'text mixed with a placeholder',
      text: "rules:\n  - to:\n      - paths: ['/foo/{*}.txt']\n",
      path: 'rules[0].to[0].paths[0]',
      message: 'mixes text and a placeholder',
      at: ["'/foo"],
    },
    {
      name: 'relative path',
      text: 'rules:\n  - to:\n      - paths: [orders]\n',
      path: 'rules[0].to[0].paths[0]',
      message: 'must start with "/"',
      at: ['orders'],
    },
    {
      name: 'dot segment in a path pattern',
      text: "rules:\n  - to:\n      - paths: ['/a/../b']\n",
      path: 'rules[0].to[0].paths[0]',
      message: 'not in normal form',
      at: ["'/a"],
    },
    {
      name: 'lower-case method',
      text: 'rules:\n  - to:\n      - methods: [GET, post]\n',
      path: 'rules[0].to[0].methods[1]',
      message: '"post" is not an upper-case HTTP method',
      at: ['post'],
    },
    {
      name: 'bad gRPC method',
      text: 'rules:\n  - to:\n      - grpcMethods: [Orders.Get]\n',
      path: 'rules[0].to[0].grpcMethods[0]',
      message: 'is not a full gRPC method name',
      at: ['Orders.Get'],
    },
    {
      name: 'HTTP and gRPC in one entry',
      text: "rules:\n  - to:\n      - methods: [GET]\n        grpcMethods: ['/a.B/C']\n",
      path: 'rules[0].to[0]',
      message: 'either HTTP (methods, paths) or gRPC (grpcMethods), not both',
      at: ['methods'],
    },
    {
      name: 'empty source',
      text: 'rules:\n  - from:\n      - {}\n',
      path: 'rules[0].from[0]',
      message: 'a source needs at least one field',
      at: ['{}'],
    },
    {
      name: 'boundary without identity',
      text: 'rules:\n  - boundary:\n      tenant: { sameAs: self }\n',
      path: 'rules[0].boundary.tenant',
      message: 'needs an identity template that captures it',
      at: ['tenant'],
    },
    {
      name: 'boundary key not captured',
      text: 'identity:\n  template: /t/{tenant}/{service}\nrules:\n  - boundary:\n      zone: { equals: eu }\n',
      path: 'rules[0].boundary.zone',
      message: '"zone" is not captured by the identity template (captures: tenant, service)',
      at: ['zone'],
    },
    {
      name: 'two boundary operators',
      text: 'identity:\n  template: /{env}/{svc}\nrules:\n  - boundary:\n      env: { in: [prod], equals: prod }\n',
      path: 'rules[0].boundary.env',
      message: 'needs exactly one of sameAs, notSameAs, equals, notEquals, in, notIn',
      at: ['{ in'],
    },
    {
      name: 'sameAs something else than self',
      text: 'identity:\n  template: /{env}/{svc}\nrules:\n  - boundary:\n      env: { sameAs: caller }\n',
      path: 'rules[0].boundary.env.sameAs',
      message: 'must be "self"',
      at: ['caller'],
    },
    {
      name: 'scopes with both forms',
      text: 'rules:\n  - scopes: { allOf: [a], anyOf: [b] }\n',
      path: 'rules[0].scopes',
      message: 'needs exactly one of "allOf" or "anyOf"',
      at: ['{ allOf'],
    },
    {
      name: 'claim condition without an operator',
      text: 'rules:\n  - when:\n      - claim: azp\n',
      path: 'rules[0].when[0]',
      message: 'needs "claim" and exactly one of equals, notEquals, in, notIn',
      at: ['claim'],
    },
    {
      name: 'claim condition with an object value',
      text: 'rules:\n  - when:\n      - { claim: azp, equals: { a: 1 } }\n',
      path: 'rules[0].when[0].equals',
      message: 'must be a string or a number or a boolean',
      at: ['{ a: 1 }'],
    },
    {
      name: 'duplicate rule ids',
      text: 'rules:\n  - id: a\n  - id: b\n  - id: a\n',
      path: 'rules[2].id',
      message: 'duplicate rule id "a" (also rules[0])',
      at: ['a', 1],
    },
    {
      name: 'invalid identity template',
      text: 'identity:\n  template: /ns/{ns}/x*\nrules: []\n',
      path: 'identity.template',
      message: 'mixes text and a placeholder',
      at: ['/ns'],
    },
    {
      name: 'template and templates',
      text: "identity:\n  template: /{a}\n  templates: ['/{b}']\nrules: []\n",
      path: 'identity',
      message: 'use either "template" or "templates", not both',
      at: ['template'],
    },
    {
      name: 'unknown default action',
      text: 'defaultAction: permit\nrules: []\n',
      path: 'defaultAction',
      message: 'must be one of "deny", "allow"',
      at: ['permit'],
    },
    {
      name: 'unknown version',
      text: 'version: 2\nrules: []\n',
      path: 'version',
      message: 'must be 1',
      at: ['2'],
    },
    {
      name: 'unknown key in JSON',
      text: '{\n  "rules": [\n    { "id": "a", "form": [] }\n  ]\n}\n',
      path: 'rules[0].form',
      message: 'unknown key, did you mean "from"?',
      at: ['"form"'],
    },
    {
      name: 'wrong type in JSON',
      text: '{\n  "rules": [\n    { "id": 7 }\n  ]\n}\n',
      path: 'rules[0].id',
      message: 'must be a string',
      at: ['7'],
    },
  ]

  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const err = loadError(c.text)
    expect(err.code).toBe('ERR_POLICY_INVALID')
    const problems = err.details?.problems as PolicyProblem[]
    const p = problems.find((x) => x.path === c.path)
    expect(p, `problems: ${problems.map((x) => x.message).join(' | ')}`).toBeDefined()
    expect(p!.message).toContain(c.message)
    expect({ line: p!.line, column: p!.column }).toEqual(pos(c.text, c.at[0], c.at[1] ?? 0))
    expect(err.message.startsWith('policy: ')).toBe(true)
  })

  test('the first error (by position) is the message; all errors are in details.problems', () => {
    const text = 'rules:\n  - acton: DENY\n  - from: { }\n'
    const err = loadError(text)
    expect(err.message).toContain('rules[0].acton')
    expect(err.message).toContain('(and 1 more)')
    expect((err.details!.problems as PolicyProblem[]).map((p) => p.path)).toEqual([
      'rules[0].acton',
      'rules[1].from',
    ])
  })

  test('missing rules and a root that is not an object', () => {
    expect(loadError('defaultAction: deny\n').message).toBe(
      'policy: missing required key "rules" (line 1, column 1)',
    )
    expect(loadError('- a\n- b\n').message).toBe('policy: must be an object (line 1, column 1)')
  })

  test('YAML syntax errors carry the position', () => {
    const err = loadError('rules:\n  - id: a\n    from: [\n')
    expect(err.code).toBe('ERR_POLICY_INVALID')
    expect(err.message).toMatch(/^policy: syntax error: .* \(line \d+, column \d+\)$/)
    expect(err.details?.line).toBeGreaterThanOrEqual(3)
  })

  test('duplicate YAML keys are an error', () => {
    const err = loadError('rules: []\nrules: []\n')
    expect(err.message).toContain('syntax error: Map keys must be unique')
    expect(err.details).toMatchObject({ line: 2, column: 1 })
  })

  test('the file name is part of the message and the details', () => {
    const err = loadError('rules:\n  - acton: DENY\n', 'policy.yaml')
    expect(err.message).toBe(
      'policy: rules[0].acton: unknown key, did you mean "action"? (policy.yaml, line 2, column 5)',
    )
    expect(err.details?.filename).toBe('policy.yaml')
  })
})

describe('definePolicy validates TypeScript objects the same way', () => {
  test('unknown keys are errors, with the JSON path and no position', () => {
    const doc = {
      rules: [{ id: 'a', from: [{ principalz: ['spiffe://a.test/x'] }] }],
    } as unknown as PolicyDocument
    try {
      definePolicy(doc)
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyError)
      expect((err as PolicyError).code).toBe('ERR_POLICY_INVALID')
      expect((err as PolicyError).message).toBe(
        'policy: rules[0].from[0].principalz: unknown key, did you mean "principals"?',
      )
      expect((err as PolicyError).details?.line).toBeUndefined()
    }
  })

  test('undefined members are ignored, and later mutation does not affect the policy', () => {
    const doc = { rules: [{ id: 'a', description: undefined, from: [{ trustDomains: ['example.org'] }] }] }
    const policy = definePolicy(doc)
    ;(doc.rules[0]!.from[0]!.trustDomains as string[])[0] = 'evil.test'
    const d = createPolicyAuthorizer(policy).authorize({
      caller: callerFromId('spiffe://example.org/x'),
      self: undefined,
      operation: { kind: 'grpc', method: '/a.B/C' },
    })
    expect(d.decision).toBe('allow')
  })

  test('a __proto__ key is an unknown key, never a prototype', () => {
    const doc = JSON.parse('{"rules": [], "__proto__": {"defaultAction": "allow"}}') as PolicyDocument
    expect(() => definePolicy(doc)).toThrow('policy: __proto__: unknown key')
    expect(() => loadPolicy('{"rules": [], "__proto__": {"defaultAction": "allow"}}')).toThrow(
      'policy: __proto__: unknown key (line 1, column 15)',
    )
    expect(() => loadPolicy('rules:\n  - __proto__: { action: DENY }\n')).toThrow(
      'rules[0].__proto__: unknown key',
    )
  })

  test('createPolicyAuthorizer accepts and validates a plain document', () => {
    expect(() => createPolicyAuthorizer({ rules: [{ action: 'PERMIT' as never }] })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_INVALID' }),
    )
    expect(() => createPolicyAuthorizer({ rules: [] }, { self: 'not an id' })).toThrow(
      expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }),
    )
  })
})

describe('loadPolicyFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svidkit-policy-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('loads YAML and JSON files', () => {
    const yamlFile = join(dir, 'p.yaml')
    writeFileSync(yamlFile, 'rules:\n  - id: a\n    from: [{ trustDomains: [example.org] }]\n')
    const jsonFile = join(dir, 'p.json')
    writeFileSync(
      jsonFile,
      JSON.stringify({ rules: [{ id: 'b', from: [{ trustDomains: ['example.org'] }] }] }, null, '\t'),
    )
    expect(loadPolicyFile(yamlFile).rules[0]?.id).toBe('a')
    expect(loadPolicyFile(pathToFileURL(jsonFile)).rules[0]?.id).toBe('b')
    expect(loadPolicyFile(yamlFile).filename).toBe(yamlFile)
  })

  test('errors name the file', () => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'rules:\n  - id: a\n    action: allow\n')
    expect(() => loadPolicyFile(file)).toThrow(`(${file}, line 3, column 13)`)
  })

  test('an unreadable file is ERR_POLICY_INVALID', () => {
    expect(() => loadPolicyFile(join(dir, 'missing.yaml'))).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_INVALID', message: expect.stringContaining('ENOENT') }),
    )
  })
})

describe('lintPolicy', () => {
  test('a clean policy has no problems', () => {
    expect(
      lintPolicy(`
identity: { template: '/t/{tenant}/{svc}' }
rules:
  - id: no-cross-tenant
    action: DENY
    boundary: { tenant: { notSameAs: self } }
  - id: orders
    from: [{ principals: ['spiffe://example.org/t/{*}/web'] }]
    to: [{ methods: [GET], paths: ['/orders/{**}'] }]
`),
    ).toEqual([])
  })

  test('reports warnings with codes, rule ids and positions', () => {
    const text = `defaultAction: allow
rules:
  - id: everyone
  - id: later
    from: [{ trustDomains: [example.org] }]
  - id: block
    action: DENY
  - id: prefix
    from: [{ principals: ['spiffe://example.org/ns/prod*'] }]
  - id: mixed
    from: [{ principals: ['spiffe://example.org/a'], requestPrincipals: [{ iss: 'https://i', sub: s }] }]
  - id: dup
    from: [{ principals: ['spiffe://example.org/ns/prod*'] }]
`
    const problems = lintPolicy(text, { filename: 'p.yaml' })
    expect(problems.every((p) => p.severity === 'warning')).toBe(true)
    const summary = problems.map((p) => [p.code, p.rule ?? null, p.line])
    expect(summary).toEqual([
      ['default-allow', null, 1],
      ['allow-without-from', 'everyone', 3],
      ['unreachable-rule', 'everyone', 3],
      ['unreachable-rule', 'later', 4],
      ['deny-without-conditions', 'block', 6],
      ['unreachable-rule', 'prefix', 8],
      ['prefix-not-segment', 'prefix', 9],
      ['unreachable-rule', 'mixed', 10],
      ['never-matches', 'mixed', 11],
      ['unreachable-rule', 'dup', 12],
      ['prefix-not-segment', 'dup', 13],
    ])
    expect(problems.find((p) => p.rule === 'later')?.message).toBe(
      'rules[1]: rule "later" is unreachable: DENY rule "block" denies every request (p.yaml, line 4, column 5)',
    )
  })

  test('duplicate conditions are unreachable', () => {
    const problems = lintPolicy(`
rules:
  - id: a
    from: [{ trustDomains: [example.org] }]
    to: [{ methods: [GET] }]
  - id: b
    to: [{ methods: [GET] }]
    from: [{ trustDomains: [example.org] }]
`)
    expect(problems.map((p) => [p.code, p.rule])).toEqual([['unreachable-rule', 'b']])
    expect(problems[0]?.message).toContain('same action and conditions as rule "a"')
  })

  test('returns every error, sorted by position, instead of throwing', () => {
    const problems = lintPolicy(
      'rules:\n  - acton: DENY\n  - to: [{ methods: [get] }]\n  - from: [{ principalz: [] }]\n',
    )
    expect(problems.map((p) => [p.severity, p.path])).toEqual([
      ['error', 'rules[0].acton'],
      ['error', 'rules[2].from[0].principalz'],
    ])
    const semantic = lintPolicy('rules:\n  - to: [{ methods: [get] }]\n  - to: [{ paths: [x] }]\n')
    expect(semantic.filter((p) => p.severity === 'error').map((p) => p.path)).toEqual([
      'rules[0].to[0].methods[0]',
      'rules[1].to[0].paths[0]',
    ])
    expect(lintPolicy('rules: [\n')[0]).toMatchObject({ severity: 'error', code: 'syntax' })
  })
})

test('policySchema is a draft-07 JSON Schema that forbids unknown keys', () => {
  expect(policySchema.$schema).toBe('http://json-schema.org/draft-07/schema#')
  expect(policySchema.additionalProperties).toBe(false)
  expect(policySchema.definitions.source.additionalProperties).toBe(false)
})
