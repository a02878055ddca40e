// Building PolicyProblems with JSON paths and source positions, and turning them into a PolicyError.
// Not exported from the package.
import { PolicyError } from '../errors/domain-errors.js'
import type { PolicyProblem } from './types.js'

/** A JSON path as keys and indexes, e.g. `['rules', 2, 'from', 0, 'principalz']`. */
export type JsonPath = readonly (string | number)[]

/** A 1-based source position. */
export interface SourcePosition {
  readonly line: number
  readonly column: number
}

/** Finds the position of the value (or, with `key`, of the map key) at `path`. */
export type Locate = (path: JsonPath, key: boolean) => SourcePosition | undefined

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** `rules[2].from[0].principalz`; odd keys are quoted: `boundary["a-b"]`. */
export function formatPath(path: JsonPath): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`
    else out += `[${JSON.stringify(seg)}]`
  }
  return out
}

/** Collects problems for one document. */
export class ProblemList {
  readonly items: PolicyProblem[] = []

  constructor(
    private readonly locate: Locate | undefined,
    private readonly filename: string | undefined,
  ) {}

  add(
    severity: 'error' | 'warning',
    code: string,
    path: JsonPath,
    reason: string,
    options: { key?: boolean; rule?: string; position?: SourcePosition } = {},
  ): void {
    const pos = options.position ?? this.locate?.(path, options.key === true)
    const where = formatPath(path)
    let message = where === '' ? reason : `${where}: ${reason}`
    if (pos) {
      message += this.filename
        ? ` (${this.filename}, line ${pos.line}, column ${pos.column})`
        : ` (line ${pos.line}, column ${pos.column})`
    } else if (this.filename) message += ` (${this.filename})`
    const problem: PolicyProblem = {
      severity,
      code,
      message,
      path: where,
      ...(pos ? { line: pos.line, column: pos.column } : {}),
      ...(options.rule === undefined ? {} : { rule: options.rule }),
    }
    this.items.push(problem)
  }

  error(code: string, path: JsonPath, reason: string, options?: { key?: boolean; rule?: string }): void {
    this.add('error', code, path, reason, options)
  }

  warn(code: string, path: JsonPath, reason: string, options?: { key?: boolean; rule?: string }): void {
    this.add('warning', code, path, reason, options)
  }

  get hasErrors(): boolean {
    return this.items.some((p) => p.severity === 'error')
  }

  /** Sorts by position (problems without one keep their order, after positioned ones). */
  sorted(): PolicyProblem[] {
    return this.items
      .map((p, i) => ({ p, i }))
      .sort((a, b) => {
        const la = a.p.line ?? Number.MAX_SAFE_INTEGER
        const lb = b.p.line ?? Number.MAX_SAFE_INTEGER
        if (la !== lb) return la - lb
        const ca = a.p.column ?? 0
        const cb = b.p.column ?? 0
        return ca !== cb ? ca - cb : a.i - b.i
      })
      .map((x) => x.p)
  }
}

/** The `ERR_POLICY_INVALID` error for the first error, with every problem in `details.problems`. */
export function policyError(problems: readonly PolicyProblem[], filename: string | undefined): PolicyError {
  const errors = problems.filter((p) => p.severity === 'error')
  const first = errors[0]
  if (!first) throw new TypeError('policyError() needs at least one error')
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''
  return new PolicyError('ERR_POLICY_INVALID', `${first.message}${more}`, {
    details: {
      path: first.path,
      ...(first.line === undefined ? {} : { line: first.line, column: first.column }),
      ...(filename === undefined ? {} : { filename }),
      problems: errors,
    },
  })
}
