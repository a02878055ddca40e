import { defineConfig } from 'vitest/config'

// The packaging checks have their own config (not a project of the root one), so `vitest run` and
// `pnpm test:unit` never pack and install: `pnpm test:packaging` (and `pnpm test`) run them. They use
// the built dist/ of every package, never the `svidkit-source` condition.
export default defineConfig({
  test: {
    name: 'packaging',
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/packaging/**/*.test.ts'],
    globalSetup: ['test/packaging/setup/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
