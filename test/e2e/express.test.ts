import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import express from 'express'
import express4 from 'express4'
import { expect, test } from 'vitest'
import { expressAdapter } from './adapters/express.js'
import { runScenarios } from './harness/run-scenarios.js'

test('the Express majors under test', () => {
  const require = createRequire(import.meta.url)
  const major = (pkg: string) =>
    JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version
  expect(major('express')).toMatch(/^5\./)
  expect(major('express4')).toMatch(/^4\./)
})

runScenarios(expressAdapter('@svidkit/express on Express 5', express))
runScenarios(expressAdapter('@svidkit/express on Express 4', express4))
