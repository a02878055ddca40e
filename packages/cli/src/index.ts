/**
 * `@svidkit/cli`: the `svidkit` command. Use it from a shell (`npx svidkit id spiffe://…`) or call
 * {@link main} from code and tests.
 *
 * @example
 * ```ts
 * import { main } from '@svidkit/cli'
 * const code = await main(['id', 'spiffe://example.org/web', '--json'])
 * ```
 * @module
 */
export type { CliResult, ExitCode } from './cli-result.js'
export type { CliIo, Runner } from './main.js'
export { main } from './main.js'
export { VERSION } from './version.js'
