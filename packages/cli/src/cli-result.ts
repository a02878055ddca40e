import { toSvidkitError } from '@svidkit/core/errors'

/**
 * Exit codes: 0 accepted, 1 rejected (including empty or malformed input), 2 usage error.
 *
 * @example
 * ```ts
 * const code: ExitCode = await main(['id', 'spiffe://example.org/web'])
 * if (code === 2) console.error('usage error')
 * ```
 */
export type ExitCode = 0 | 1 | 2

/**
 * What a command produced: one JSON object for `--json`, a short text otherwise.
 *
 * @example
 * ```ts
 * const result: CliResult = {
 *   exitCode: 1,
 *   json: { ok: false, code: 'ERR_SPIFFE_ID_SCHEME', message: 'spiffeid: scheme is missing or invalid' },
 *   human: 'rejected: spiffeid: scheme is missing or invalid (ERR_SPIFFE_ID_SCHEME)',
 * }
 * ```
 */
export interface CliResult {
  readonly exitCode: ExitCode
  readonly json: Record<string, unknown>
  readonly human: string
  /** Print `human` on stdout even when the exit code is not 0 (a report, not an error message). */
  readonly humanToStdout?: boolean
}

/** A successful result. */
export function accepted(json: Record<string, unknown>, human: string): CliResult {
  return { exitCode: 0, json: { ok: true, ...json }, human }
}

/** A rejection: `{"ok":false,"code","message"}`, exit 1 (or 2 for usage errors). */
export function rejected(error: unknown): CliResult {
  const err = toSvidkitError(error)
  const exitCode: ExitCode = err.code === 'ERR_CLI_USAGE' ? 2 : 1
  return {
    exitCode,
    json: { ok: false, code: err.code, message: err.message },
    human: `rejected: ${err.message} (${err.code})`,
  }
}
