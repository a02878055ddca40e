import { closeSync, openSync, readSync } from 'node:fs'
import { BundleSet, parseBundleDocument, SpiffeBundle, type X509Bundle } from '@svidkit/core/bundle'
import { SvidkitError } from '@svidkit/core/errors'

/**
 * The largest input file (or standard input) a command reads: 4 MiB, as core's `FileSource`. Reading
 * stops there, so a device such as `/dev/zero` is refused instead of filling the memory.
 */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024

const READ_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a folder, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a parent is not a folder',
}

/**
 * Reads a file for a command; an unreadable file is a rejection (exit 1), not a usage error. Reading
 * stops past `maxBytes` (default {@link MAX_INPUT_BYTES}): `tooLarge` builds that error (default
 * `ERR_CLI_INPUT`).
 */
export function readInput(
  path: string,
  what: string,
  limit: { maxBytes?: number; tooLarge?: (message: string) => SvidkitError } = {},
): Buffer {
  const maxBytes = limit.maxBytes ?? MAX_INPUT_BYTES
  const fail = (reason: string, cause?: unknown): never => {
    throw new SvidkitError('ERR_CLI_INPUT', `${what} "${path}": ${reason}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { path },
    })
  }
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? ''
    return fail(READ_REASONS[code] ?? `cannot read it (${code || 'unknown error'})`, cause)
  }
  try {
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024)
      let n: number
      try {
        n = readSync(fd, chunk, 0, chunk.length, null)
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code ?? ''
        return fail(READ_REASONS[code] ?? `cannot read it (${code || 'unknown error'})`, cause)
      }
      if (n === 0) break
      total += n
      if (total > maxBytes) {
        const reason = `is larger than ${maxBytes} bytes`
        if (limit.tooLarge) throw limit.tooLarge(`${what} "${path}" ${reason}`)
        fail(reason)
      }
      chunks.push(chunk.subarray(0, n))
    }
    return Buffer.concat(chunks, total)
  } finally {
    closeSync(fd)
  }
}

/** A usage error (exit 2). */
export function usage(reason: string): SvidkitError {
  return new SvidkitError('ERR_CLI_USAGE', reason)
}

/** Parses an RFC 3339 timestamp given to `--at`. */
export function parseAt(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
  const t = Date.parse(value)
  if (!rfc3339.test(value) || Number.isNaN(t))
    throw usage(`--at must be an RFC 3339 timestamp, got "${value}"`)
  return new Date(t)
}

/**
 * Loads every `--bundle` file into one set. Files that do not name their trust domain (a SPIFFE
 * bundle, PEM) use `--trust-domain`. Files for the same trust domain are combined (their
 * authorities are joined); different trust domains are never merged.
 */
export function loadBundles(files: readonly string[], trustDomain: string | undefined): BundleSet {
  if (files.length === 0) throw usage("required option '--bundle <file>' not specified")
  const set = new BundleSet()
  for (const file of files) {
    const { bundles } = parseBundleDocument(readInput(file, 'bundle file'), { trustDomain })
    for (const bundle of bundles) {
      const held = set.getSpiffeBundle(bundle.trustDomain)
      set.add(held ? join(held, bundle) : bundle)
    }
  }
  return set
}

function join(a: SpiffeBundle, b: SpiffeBundle): SpiffeBundle {
  const x509: X509Bundle['authorities'][number][] = [...a.x509Authorities, ...b.x509Authorities]
  const jwt = new Map([...a.jwtAuthorities, ...b.jwtAuthorities])
  return new SpiffeBundle(a.trustDomain, {
    x509Authorities: x509,
    jwtAuthorities: jwt.values(),
    refreshHintSeconds: b.refreshHintSeconds ?? a.refreshHintSeconds,
    sequenceNumber: b.sequenceNumber ?? a.sequenceNumber,
  })
}

/** Reads all of stdin (for `-` arguments), at most {@link MAX_INPUT_BYTES}. */
export async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    total += b.length
    if (total > MAX_INPUT_BYTES) {
      throw new SvidkitError('ERR_CLI_INPUT', `standard input is larger than ${MAX_INPUT_BYTES} bytes`)
    }
    chunks.push(b)
  }
  return Buffer.concat(chunks).toString('utf8')
}
