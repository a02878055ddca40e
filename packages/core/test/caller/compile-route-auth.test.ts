import { compileRouteAuth, type RouteRequirement } from '@svidkit/core/caller'
import type { Authorizer } from '@svidkit/core/policy'
import { expect, test } from 'vitest'

const compiled: RouteRequirement[] = []
const requirement = (r: RouteRequirement): Authorizer => {
  compiled.push(r)
  return { authorize: () => ({ decision: 'allow', rule: 'r', reason: 'ok', audit: [] }) }
}

test('modes: default, public, optional, and requirements needing a caller', () => {
  expect(compileRouteAuth(undefined, { defaultMode: 'optional', requirement })).toEqual({
    mode: 'optional',
    verify: { optional: true },
  })
  expect(compileRouteAuth({ public: true }, { defaultMode: 'required', requirement }).mode).toBe('none')
  expect(compileRouteAuth({ optional: true }, { defaultMode: 'required', requirement }).mode).toBe('optional')
  const scoped = compileRouteAuth({ scopes: ['a'] }, { defaultMode: 'optional', requirement })
  expect(scoped.mode).toBe('required')
  expect(scoped.verify.requirement).toBeDefined()
  expect(compiled).toEqual([{ scopes: ['a'] }])
  expect(compileRouteAuth({}, { defaultMode: 'none', requirement }).mode).toBe('none')
})

test('invalid settings are OptionsErrors', () => {
  for (const spec of [
    { public: true, optional: true },
    { public: true, scopes: ['a'] },
    { public: 'yes' },
    null,
  ]) {
    expect(
      () => compileRouteAuth(spec as never, { defaultMode: 'required', requirement }),
      JSON.stringify(spec),
    ).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID' }))
  }
})
