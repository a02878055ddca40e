// Vitest setup file of the resilience and soak projects: every test file runs with the capture on,
// and fails if any line it produced holds a secret (issue 16, point 5). It prints how many lines it
// scanned (`CAPTURE {…}`), for test/resilience/README.md.
import { afterAll, expect } from 'vitest'
import { capture } from './capture.js'

capture.hookProcess()

afterAll(() => {
  console.log(`CAPTURE ${JSON.stringify(capture.stats())}`)
  expect(capture.leaks(), 'a log, audit, response or output line holds a token, key or certificate').toEqual(
    [],
  )
})
