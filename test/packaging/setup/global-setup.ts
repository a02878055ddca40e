// Builds the packages, packs each publishable one (`pnpm pack`, which writes real versions in place
// of `workspace:` and `catalog:` specifiers, as `pnpm publish` will), and installs every tarball with
// npm into a fresh project in the OS temp dir, outside the workspace: third-party dependencies come
// from the npm registry (or npm's cache), never from the workspace. The tests then use that project.
//
// SVIDKIT_KEEP_PACKAGING=1 keeps the temp dir for a look afterwards.
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { parse } from 'yaml'
import { publishablePackages, root } from './workspace-packages.js'

/** What the tests get through `inject('packaging')`. */
export interface PackagingContext {
  /** The temp dir holding `tarballs/` and `consumer/`. */
  readonly dir: string
  readonly consumer: string
  /** Package name → tarball path. */
  readonly tarballs: Record<string, string>
}

declare module 'vitest' {
  export interface ProvidedContext {
    packaging: PackagingContext
  }
}

/** npm with the environment of a user's shell: none of pnpm's `npm_config_*` settings leak in. */
export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_)/i.test(k)) env[k] = v
  }
  return env
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  })
}

export default function setup(project: TestProject): () => void {
  const keep = process.env.SVIDKIT_KEEP_PACKAGING === '1'
  run(process.execPath, [join(root, 'scripts/build.mjs')], root)

  const dir = mkdtempSync(join(tmpdir(), 'svidkit-packaging-'))
  const tarDir = join(dir, 'tarballs')
  const consumer = join(dir, 'consumer')
  mkdirSync(tarDir)
  mkdirSync(consumer)

  const tarballs: Record<string, string> = {}
  for (const pkg of publishablePackages()) {
    const before = new Set(readdirSync(tarDir))
    run('pnpm', ['pack', '--pack-destination', tarDir], join(root, pkg.dir))
    const made = readdirSync(tarDir).filter((f) => !before.has(f))
    if (made.length !== 1) throw new Error(`pnpm pack in ${pkg.dir} made ${made.length} files`)
    tarballs[pkg.name] = join(tarDir, made[0]!)
  }

  // Third-party packages the consumer code uses, at the versions the workspace is tested with.
  const catalogs = (
    parse(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')) as {
      catalogs: Record<string, Record<string, string>>
    }
  ).catalogs
  const pin = (name: string) => {
    for (const c of Object.values(catalogs)) if (c[name]) return `${name}@${c[name]}`
    throw new Error(`${name} is not in a pnpm catalog`)
  }
  writeFileSync(
    join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'svidkit-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  )
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      ...Object.values(tarballs),
      pin('fastify'),
      pin('express'),
      pin('@types/express'),
      pin('@types/node'),
      // An optional peer of @svidkit/core, whose declarations the /tls client helpers name.
      pin('undici'),
      // @svidkit/nestjs's peers (Nest 12 is ESM-only: CommonJS loads it through require(esm)), and
      // @nestjs/microservices for its /grpc entry.
      pin('@nestjs/common'),
      pin('@nestjs/core'),
      pin('@nestjs/platform-express'),
      pin('@nestjs/microservices'),
      pin('reflect-metadata'),
      pin('rxjs'),
      // @svidkit/connect's peer, and the Connect server and runtime its users have with it.
      pin('@connectrpc/connect'),
      pin('@connectrpc/connect-node'),
      pin('@bufbuild/protobuf'),
    ],
    consumer,
    npmEnv(),
  )
  for (const file of readdirSync(new URL('../consumer/', import.meta.url))) {
    copyFileSync(new URL(`../consumer/${file}`, import.meta.url), join(consumer, file))
  }

  project.provide('packaging', { dir, consumer, tarballs })
  return () => {
    if (!keep) rmSync(dir, { recursive: true, force: true })
  }
}
