import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { main } from '@svidkit/cli'
import { afterAll, beforeAll, expect } from 'vitest'

/**
 * A temporary folder for one test file: created before its tests, removed with everything in it after
 * them (the CLI tests used to leave four folders behind per run). Call at the top level of the file.
 */
export function useTempDir(prefix: string): () => string {
  let dir: string | undefined
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix))
  })
  afterAll(() => {
    if (dir === undefined) return
    rmSync(dir, { recursive: true, force: true })
    expect(existsSync(dir)).toBe(false)
  })
  return () => {
    if (dir === undefined) throw new Error('useTempDir: the folder exists only while the tests run')
    return dir
  }
}

/** Runs the CLI in-process and captures its output. */
export async function runCli(
  args: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string; json: Record<string, unknown> | undefined }> {
  let stdout = ''
  let stderr = ''
  const input = new PassThrough()
  input.end(stdin)
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stdin: input })
  let json: Record<string, unknown> | undefined
  if (args.includes('--json')) {
    const lines = stdout.trim().split('\n')
    if (lines.length !== 1)
      throw new Error(`--json must print exactly one line, got ${lines.length}: ${stdout}`)
    json = JSON.parse(lines[0]!) as Record<string, unknown>
  }
  return { code, stdout, stderr, json }
}
