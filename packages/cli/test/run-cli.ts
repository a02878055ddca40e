import { PassThrough } from 'node:stream'
import { main } from '@svidkit/cli'

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
