import { defineConfig } from 'vitest/config'

// Every workspace package is resolved through its `svidkit-source` export condition, so tests import
// public specifiers (`@svidkit/core/x509-svid`) and still run against `src/` without a build.
const conditions = ['svidkit-source']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    projects: [
      { extends: true, test: { name: 'core', include: ['packages/core/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'testing', include: ['packages/testing/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'cli', include: ['packages/cli/test/**/*.test.ts'] } },
    ],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
})
