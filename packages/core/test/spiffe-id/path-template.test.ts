// One conformance table for SPIFFE ID path templates, run against every use of them: the model
// itself, matchPathTemplate, policy principals, policy identity templates (boundary captures) and
// the caller's captures from createCallerVerifier. A caller's captures and the policy's boundary
// checks can then never disagree about the same identity.
import { BundleSet } from '@svidkit/core/bundle'
import { createCallerVerifier } from '@svidkit/core/caller'
import { callerFromId, createPolicyAuthorizer, definePolicy } from '@svidkit/core/policy'
import { firstCaptures, matchPathTemplate, PathTemplate, SpiffeId } from '@svidkit/core/spiffe-id'
import { codeOf, TestCA } from '@svidkit/testing'
import { beforeAll, describe, expect, test } from 'vitest'

type Row = readonly [template: string, id: string, captures: Record<string, string> | null]

const TABLE: readonly Row[] = [
  ['/web', 'spiffe://example.org/web', {}],
  ['/web', 'spiffe://example.org/api', null],
  ['/web', 'spiffe://example.org/web/x', null],
  [
    '/ns/{namespace}/sa/{serviceAccount}',
    'spiffe://example.org/ns/prod/sa/web',
    { namespace: 'prod', serviceAccount: 'web' },
  ],
  ['/ns/{namespace}/sa/{serviceAccount}', 'spiffe://example.org/ns/prod/sa', null],
  ['/ns/{namespace}/sa/{serviceAccount}', 'spiffe://example.org/ns/prod/sa/web/extra', null],
  ['/ns/{namespace}/sa/{serviceAccount}', 'spiffe://example.org/ns/prod/xx/web', null],
  ['/ns/{*}/sa/{serviceAccount}', 'spiffe://example.org/ns/prod/sa/web', { serviceAccount: 'web' }],
  ['/tenant/{tenant}/{**}', 'spiffe://example.org/tenant/acme', { tenant: 'acme' }],
  ['/tenant/{tenant}/{**}', 'spiffe://example.org/tenant/acme/a/b/c', { tenant: 'acme' }],
  ['/tenant/{tenant}/{rest:**}', 'spiffe://example.org/tenant/acme/a/b', { tenant: 'acme', rest: 'a/b' }],
  ['/tenant/{tenant}/{rest:**}', 'spiffe://example.org/tenant/acme', { tenant: 'acme', rest: '' }],
  ['/tenant/{tenant}/{rest:**}', 'spiffe://example.org/tenant', null],
  ['/{service}', 'spiffe://example.org/a-b.c_d', { service: 'a-b.c_d' }],
]

const INVALID = ['ns/{x}', '/a/{x}y', '/{1x}', '/{x}/{x}', '/{**}/a', '/a//b', '/a/.', '/{a-b}']

describe('PathTemplate: one model for every template', () => {
  test.each(TABLE)('%s vs %s', (template, id, want) => {
    const parsed = SpiffeId.parse(id)
    const t = PathTemplate.parse(template)
    expect(t.captures(parsed) ?? null).toEqual(want)
    expect(t.test(parsed)).toBe(want !== null)
    expect(firstCaptures([PathTemplate.parse('/nothing/{here}'), t], parsed) ?? null).toEqual(want)
    const m = matchPathTemplate(template)(parsed)
    expect(m.matched ? m.captures : null).toEqual(want)
  })

  test.each(INVALID)('%s is refused by every use', (template) => {
    expect(codeOf(() => PathTemplate.parse(template))).toBe('ERR_SPIFFE_ID_TEMPLATE_INVALID')
    expect(codeOf(() => matchPathTemplate(template))).toBe('ERR_SPIFFE_ID_TEMPLATE_INVALID')
    expect(codeOf(() => definePolicy({ identity: { template }, rules: [] }))).toBe('ERR_POLICY_INVALID')
    expect(
      codeOf(() => createCallerVerifier({ bundles: new BundleSet([]), identityTemplates: [template] })),
    ).toBe('ERR_SPIFFE_ID_TEMPLATE_INVALID')
  })

  test('a trust domain restricts the match', () => {
    const t = PathTemplate.parse('/web', { trustDomain: 'example.org' })
    expect(t.test(SpiffeId.parse('spiffe://example.org/web'))).toBe(true)
    expect(t.test(SpiffeId.parse('spiffe://other.org/web'))).toBe(false)
  })
})

describe('the same table through policy principals and identity templates', () => {
  test.each(TABLE)('principal spiffe://example.org%s vs %s', (template, id, want) => {
    const a = createPolicyAuthorizer(
      definePolicy({ rules: [{ id: 'p', from: [{ principals: [`spiffe://example.org${template}`] }] }] }),
    )
    const d = a.authorize({
      caller: callerFromId(id),
      self: undefined,
      operation: { kind: 'grpc', method: '/a.B/C' },
    })
    expect(d.decision).toBe(want === null ? 'deny' : 'allow')
  })

  test.each(TABLE.filter(([, , want]) => want !== null && Object.keys(want).length > 0))(
    'identity template %s vs %s: every capture is what boundary conditions see',
    (template, id, want) => {
      // (A policy cannot compare with an empty string: empty captures are checked by the other uses.)
      const seen = Object.entries(want!).filter(([, v]) => v !== '')
      const boundary = Object.fromEntries(seen.map(([k, v]) => [k, { equals: v }]))
      const other = Object.fromEntries(seen.map(([k, v]) => [k, { equals: `${v}-not` }]))
      const decide = (b: typeof boundary) =>
        createPolicyAuthorizer(
          definePolicy({ identity: { template }, rules: [{ id: 'b', boundary: b }] }),
        ).authorize({
          caller: callerFromId(id),
          self: undefined,
          operation: { kind: 'grpc', method: '/a.B/C' },
        }).decision
      expect(decide(boundary)).toBe('allow')
      expect(decide(other)).toBe('deny')
    },
  )
})

describe("the same table through the caller's captures", () => {
  let ca: TestCA
  beforeAll(async () => {
    ca = await TestCA.create({ trustDomain: 'example.org' })
  })

  test.each(TABLE)('identityTemplates [%s], caller %s', async (template, id, want) => {
    const verifier = createCallerVerifier({
      bundles: ca.bundleSet(),
      mtls: false,
      jwt: { audience: 'orders' },
      identityTemplates: [template],
      audit: false,
    })
    const token = await ca.mintJwtSvid({ subject: id, audience: 'orders' })
    const { caller } = await verifier.verifyCaller({
      operation: { kind: 'grpc', method: '/a.B/C' },
      authorization: `Bearer ${token}`,
    })
    expect(caller?.captures).toEqual(want ?? {})
  })
})
