import { readFileSync } from 'node:fs'
import { BundleSet, parseBundleDocument, SpiffeBundle, type X509Bundle } from '@svidkit/core/bundle'
import { SvidkitError } from '@svidkit/core/errors'

/** Reads a file for a command; an unreadable file is a rejection (exit 1), not a usage error. */
export function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot read it'
    throw new SvidkitError('ERR_CLI_INPUT', `${what} "${path}": ${reason}`, { cause })
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

/** Reads all of stdin (for `-` arguments). */
export async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks).toString('utf8')
}
