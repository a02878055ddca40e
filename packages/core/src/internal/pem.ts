// PEM and concatenated-DER helpers. Not exported from the package.

/** One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, …) and DER bytes. */
export interface PemBlock {
  readonly label: string
  readonly der: Buffer
}

const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/
const BEGIN = '-----BEGIN '
const END = '-----END '
const DASHES = '-----'
const MAX_LABEL = 64

/** The label of a `-----BEGIN <label>-----` / `-----END <label>-----` marker at `at`, or `undefined`. */
function labelAt(text: string, at: number): { label: string; end: number } | undefined {
  let j = at
  const limit = Math.min(text.length, at + MAX_LABEL)
  while (j < limit) {
    const c = text.charCodeAt(j)
    // [A-Z0-9 ]
    if ((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 32) j++
    else break
  }
  if (j === at || !text.startsWith(DASHES, j)) return undefined
  return { label: text.slice(at, j), end: j + DASHES.length }
}

/**
 * Decodes every PEM block in `text`. Text outside blocks is ignored (comments, explanatory text). A
 * block runs from its BEGIN marker to the next END marker, which must carry the same label. One pass:
 * the time is linear in the length of `text`, whatever it holds (a backtracking regular expression
 * took quadratic time on many BEGIN markers without an END).
 */
export function decodePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = []
  let i = 0
  for (;;) {
    const begin = text.indexOf(BEGIN, i)
    if (begin < 0) break
    const open = labelAt(text, begin + BEGIN.length)
    if (open === undefined) {
      i = begin + BEGIN.length
      continue
    }
    const end = text.indexOf(END, open.end)
    if (end < 0) break // no END marker anywhere after: nothing more to decode
    const close = labelAt(text, end + END.length)
    if (close === undefined || close.label !== open.label) {
      throw new Error('PEM block is not closed by an END marker with its label')
    }
    const body = text.slice(open.end, end)
    if (!BASE64_BODY.test(body)) throw new Error('PEM block body is not base64')
    blocks.push({ label: open.label, der: Buffer.from(body.replace(/\s+/g, ''), 'base64') })
    i = close.end
  }
  return blocks
}

/**
 * Counts the `-----BEGIN CERTIFICATE-----` markers of `text`, stopping at `max + 1`. Linear time; used to
 * refuse an over-long chain before decoding any of it.
 */
export function countPemCertificates(text: string, max: number): number {
  const marker = '-----BEGIN CERTIFICATE-----'
  let n = 0
  for (let i = text.indexOf(marker); i >= 0 && n <= max; i = text.indexOf(marker, i + marker.length)) n++
  return n
}

/** Encodes DER bytes as a PEM block with 64-character lines. */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** Whether bytes look like text PEM rather than DER (DER starts with a SEQUENCE tag 0x30). */
export function looksLikePem(data: Uint8Array | string): boolean {
  if (typeof data === 'string') return true
  return data.length > 0 && data[0] !== 0x30
}

/**
 * Splits back-to-back DER SEQUENCEs (the Workload API's "concatenated DER") into one buffer each.
 * Throws on a truncated or non-SEQUENCE element.
 */
export function splitConcatenatedDer(data: Uint8Array): Buffer[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const out: Buffer[] = []
  let i = 0
  while (i < buf.length) {
    if (buf[i] !== 0x30) throw new Error(`expected a DER SEQUENCE at offset ${i}`)
    if (i + 2 > buf.length) throw new Error('truncated DER element')
    let len = buf[i + 1]!
    let header = 2
    if (len & 0x80) {
      const n = len & 0x7f
      if (n === 0 || n > 4 || i + 2 + n > buf.length) throw new Error('invalid DER length')
      len = 0
      for (let k = 0; k < n; k++) len = len * 256 + buf[i + 2 + k]!
      header += n
    }
    const end = i + header + len
    if (end > buf.length) throw new Error('truncated DER element')
    out.push(buf.subarray(i, end))
    i = end
  }
  return out
}
