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
      {
        extends: true,
        test: { name: 'adapters', include: ['packages/fastify/test/**/*.test.ts', 'packages/express/test/**/*.test.ts'] },
      },
      {
        // SPIRE v1.15.3 and go-spiffe v2.9.0 (test/interop/README.md); run by `node test/interop/run.mjs`.
        // One file at a time: each starts its own SPIRE processes, and CI machines have 2 cores.
        extends: true,
        test: {
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          globalSetup: ['test/interop/setup/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
})
