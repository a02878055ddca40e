import { createWriteStream } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { OptionsError } from '../errors/domain-errors.js'
import type { AuditEvent } from './audit-event.js'
import type { AuditSink } from './sinks.js'

/**
 * Anything with `write(text)`: `process.stdout`, a file or socket stream, a log shipper.
 *
 * @example
 * ```ts
 * const out: JsonLinesWritable = process.stdout
 * const sink = jsonLinesSink(out)
 * ```
 */
export interface JsonLinesWritable {
  write(chunk: string): unknown
}

/**
 * Options for {@link jsonLinesSink}.
 *
 * @example
 * ```ts
 * const options: JsonLinesSinkOptions = { onError: (err) => console.error('audit log:', err) }
 * const sink = jsonLinesSink('audit.jsonl', options)
 * ```
 */
export interface JsonLinesSinkOptions {
  /** Called when the file cannot be opened or written (the error is otherwise dropped: audit never breaks a request). */
  onError?: (error: unknown) => void
}

/**
 * An {@link AuditSink} writing JSON lines, with a `close()` that flushes a file it opened.
 *
 * @example
 * ```ts
 * const sink: JsonLinesSink = jsonLinesSink('audit.jsonl')
 * process.once('SIGTERM', () => void sink.close())
 * ```
 */
export interface JsonLinesSink extends AuditSink {
  /** Flushes and closes the file this sink opened; for a given writable, does nothing. */
  close(): Promise<void>
}

/**
 * svidkit's JSON audit sink: one {@link AuditEvent} per line, `JSON.stringify(event)` followed by
 * `\n`, appended to a file (created with mode 0600) or written to any writable. This is the format
 * `svidkit policy replay --audit <file>` reads back (it also reads pino lines of `loggerSink`).
 *
 * @example
 * ```ts
 * import { jsonLinesSink } from '@svidkit/core/audit'
 * import { policyClaimPaths } from '@svidkit/core/policy'
 *
 * const audit = { sink: jsonLinesSink('/var/log/orders/audit.jsonl'), claims: policyClaimPaths(policy) }
 * await app.register(svidkit, { bundles, authorizer: createPolicyAuthorizer(policy), audit })
 * ```
 */
export function jsonLinesSink(
  destination: string | URL | JsonLinesWritable,
  options: JsonLinesSinkOptions = {},
): JsonLinesSink {
  const onError = (err: unknown): void => {
    try {
      options.onError?.(err)
    } catch {
      // ignore
    }
  }
  if (typeof destination === 'object' && !(destination instanceof URL)) {
    if (typeof destination?.write !== 'function') {
      throw new OptionsError(
        'ERR_OPTIONS_INVALID',
        'jsonLinesSink: expected a file path or something with write(text)',
      )
    }
    return {
      write(event: AuditEvent) {
        try {
          destination.write(`${JSON.stringify(event)}\n`)
        } catch (err) {
          onError(err)
        }
      },
      close: async () => {},
    }
  }
  const path = typeof destination === 'string' ? destination : fileURLToPath(destination)
  if (path === '') throw new OptionsError('ERR_OPTIONS_INVALID', 'jsonLinesSink: the file path is empty')
  const stream = createWriteStream(path, { flags: 'a', mode: 0o600 })
  let failed = false
  // Without a listener a stream error would crash the process; the sink reports it and goes quiet.
  stream.on('error', (err) => {
    failed = true
    onError(err)
  })
  return {
    write(event: AuditEvent) {
      if (!failed && !stream.writableEnded) stream.write(`${JSON.stringify(event)}\n`)
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (stream.closed || stream.destroyed) return resolve()
        // 'close' follows the flush, and also a failure to open or write.
        stream.once('close', () => resolve())
        stream.end()
      }),
  }
}
