import { configDefaults, defineConfig } from 'vitest/config'

// Every workspace package is resolved through its `svidkit-source` export condition, so tests import
// public specifiers (`@svidkit/core/x509-svid`) and still run against `src/` without a build.
const conditions = ['svidkit-source']

// The long part of the proof under failure (test/resilience/README.md), run by `pnpm test:soak`
// (scripts/soak.mjs) only: 10^6 fuzz runs per parser, 20 agent restarts and a 10-minute rotation soak
// under load, 10^5 callers. The project exists only with SVIDKIT_SOAK=1, so `vitest run` never picks it.
const soak = {
  extends: true,
  test: {
    name: 'soak',
    include: ['test/resilience/soak/**/*.test.ts'],
    setupFiles: ['test/resilience/harness/setup-capture.ts'],
    testTimeout: 25 * 60_000,
    hookTimeout: 5 * 60_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
}

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
        test: {
          name: 'adapters',
          include: ['packages/fastify/test/**/*.test.ts', 'packages/express/test/**/*.test.ts'],
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
      {
        // The fast part of the proof under failure (test/resilience/README.md): fuzzing 10^4 runs per
        // parser, cache bounds, bad input over real sockets, no secrets in logs, a short agent loss.
        extends: true,
        test: {
          name: 'resilience',
          include: ['test/resilience/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/resilience/soak/**'],
          setupFiles: ['test/resilience/harness/setup-capture.ts'],
          testTimeout: 60_000,
        },
      },
      {
        // Real nginx and HAProxy on 127.0.0.1 (installed by the tests' setup when missing). Files run one
        // at a time (ports, processes, apt); the hook timeout covers a first-run apt-get install.
        extends: true,
        test: {
          name: 'proxies',
          include: ['test/proxies/**/*.test.ts'],
          fileParallelism: false,
          hookTimeout: 15 * 60_000,
          testTimeout: 30_000,
        },
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
      ...(process.env.SVIDKIT_SOAK === '1' ? [soak] : []),
    ],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
})
