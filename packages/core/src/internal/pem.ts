// PEM and concatenated-DER helpers. Not exported from the package.

/** One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, …) and DER bytes. */
export interface PemBlock {
  readonly label: string
  readonly der: Buffer
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/

/** Decodes every PEM block in `text`. Text outside blocks is ignored (comments, explanatory text). */
export function decodePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = []
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2] ?? ''
    if (!BASE64_BODY.test(body)) throw new Error('PEM block body is not base64')
    blocks.push({ label: m[1] ?? '', der: Buffer.from(body.replace(/\s+/g, ''), 'base64') })
  }
  return blocks
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
