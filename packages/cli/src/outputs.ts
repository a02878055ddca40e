// Writing the files of `fetch x509 --write-dir` and `fetch bundles --write`. Every failure is an
// `ERR_CLI_OUTPUT` rejection (exit 1) naming the path and the reason, never an internal error.
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { parse, resolve, sep } from 'node:path'
import { SvidkitError } from '@svidkit/core/errors'

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such folder',
  ENOTDIR: 'a parent is not a folder',
  EISDIR: 'is a folder, not a file',
  EEXIST: 'exists and is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'name too long',
}

function outputError(what: string, path: string, cause: unknown, why?: string): SvidkitError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? ''
  const reason = why ?? REASONS[code] ?? `cannot write it (${code || 'unknown error'})`
  return new SvidkitError('ERR_CLI_OUTPUT', `${what} "${path}": ${reason}`, {
    cause,
    details: { path, ...(code ? { errno: code } : {}) },
  })
}

/**
 * Creates `dir` and its missing parents, one level at a time. Node's `mkdirSync(dir, { recursive: true })`
 * loops forever at 100% CPU under `/proc` (procfs answers ENOENT to every mkdir, which the recursive
 * algorithm retries); creating each level without `recursive` turns that into a plain ENOENT. The loop
 * is bounded by the number of path components.
 */
export function makeOutputDir(dir: string): void {
  const absolute = resolve(dir)
  const { root } = parse(absolute)
  const parts = absolute
    .slice(root.length)
    .split(sep)
    .filter((p) => p !== '')
  let current = root
  for (const part of parts) {
    current = current === root ? `${root}${part}` : `${current}${sep}${part}`
    try {
      mkdirSync(current)
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code
      // Every parent exists by now: ENOENT means the file system refuses new folders here (procfs).
      if (code === 'ENOENT')
        throw outputError('output folder', dir, cause, 'cannot create a folder there (ENOENT)')
      if (code !== 'EEXIST') throw outputError('output folder', dir, cause)
      let isDir = false
      try {
        isDir = statSync(current).isDirectory()
      } catch (statCause) {
        throw outputError('output folder', dir, statCause)
      }
      if (!isDir) {
        const err = Object.assign(new Error(`${current} is not a folder`), {
          code: current === absolute ? 'EEXIST' : 'ENOTDIR',
        })
        throw outputError('output folder', dir, err)
      }
    }
  }
}

/** Writes `text` to `file` with `mode` (also applied to an existing file). */
export function writeOutputFile(file: string, text: string, mode = 0o644): void {
  try {
    writeFileSync(file, text, { mode })
    chmodSync(file, mode)
  } catch (cause) {
    // ENOENT when writing a file: its folder is missing.
    throw outputError('output file', file, cause)
  }
}
