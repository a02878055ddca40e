import { fileURLToPath } from 'node:url'
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
          include: [
            'packages/fastify/test/**/*.test.ts',
            'packages/express/test/**/*.test.ts',
            'packages/grpc/test/**/*.test.ts',
            'packages/connect/test/**/*.test.ts',
            'packages/nestjs/test/**/*.test.ts',
          ],
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
      {
        // Each example started on its own (dev agent, its server in a child process, callers): one
        // allowed and one refused call. The servers run on the built packages (dist/).
        extends: true,
        test: { name: 'examples', include: ['examples/*/*.test.ts'], testTimeout: 60_000 },
      },
      {
        // The oldest supported grpc-js minor (1.11, where the connection injector arrived), installed as
        // the npm alias `grpc-js-1-11`: every import of `@grpc/grpc-js` (tests, @svidkit/grpc, core)
        // resolves to it, as it would in an application with that one copy.
        extends: true,
        resolve: {
          alias: [
            {
              find: /^@grpc\/grpc-js(\/.*)?$/,
              replacement: `${fileURLToPath(new URL('packages/grpc/node_modules/grpc-js-1-11', import.meta.url))}$1`,
            },
          ],
        },
        test: {
          name: 'grpc-js-1.11',
          include: ['packages/grpc/test/**/*.test.ts', 'test/e2e/grpc.test.ts'],
          env: { SVIDKIT_GRPC_JS: '1.11' },
        },
      },
      {
        // Connect 2.0.2, the oldest release @svidkit/connect supports (the first whose gRPC and gRPC-web
        // handlers send an error's metadata, so the svidkit code, in the trailers), installed in
        // test/connect-2-0 so connect-node resolves that connect as its peer: every `@connectrpc/*`
        // import of the tests and of @svidkit/connect resolves there, as in an application on 2.0.2.
        extends: true,
        resolve: {
          alias: [
            {
              find: /^@connectrpc\/(connect|connect-node)(\/.*)?$/,
              replacement: `${fileURLToPath(new URL('test/connect-2-0/node_modules/@connectrpc', import.meta.url))}/$1$2`,
            },
          ],
        },
        test: {
          name: 'connect-2.0.2',
          include: ['packages/connect/test/**/*.test.ts', 'test/e2e/connect.test.ts'],
          env: { SVIDKIT_CONNECT: '2.0.2' },
        },
      },
      {
        // NestJS 11 (the last 11.x), installed under its own names in test/nest-11 so its packages
        // resolve each other as peers: every `@nestjs/*` import of the tests and of @svidkit/nestjs
        // resolves there, as it would in an application on Nest 11.
        extends: true,
        resolve: {
          alias: [
            {
              find: /^@nestjs\/(common|core|microservices|platform-express|platform-fastify)(\/.*)?$/,
              replacement: `${fileURLToPath(new URL('test/nest-11/node_modules/@nestjs', import.meta.url))}/$1$2`,
            },
          ],
        },
        test: {
          name: 'nest-11',
          include: ['packages/nestjs/test/**/*.test.ts', 'test/e2e/nestjs*.test.ts'],
          env: { SVIDKIT_NEST: '11' },
        },
      },
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
