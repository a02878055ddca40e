// The certificate encodings proxies use in headers. Shared by decodeForwardedCert and by the XFCC
// `Cert`/`Chain` check. Not exported from the package. Every function throws ForwardedCertError
// (ERR_FORWARDED_CERT_MALFORMED) and never form-decodes `+`.
import { X509Certificate } from 'node:crypto'
import { ForwardedCertError } from '../errors/domain-errors.js'
import { splitConcatenatedDer } from '../internal/pem.js'
import { MAX_CHAIN_CERTIFICATES } from '../x509-svid/chain-limits.js'

function malformed(why: string, cause?: unknown): never {
  throw new ForwardedCertError('ERR_FORWARDED_CERT_MALFORMED', why, cause === undefined ? {} : { cause })
}

/** Refuses more than `MAX_CHAIN_CERTIFICATES` certificates, before any of them is parsed. */
export function checkCertificateCount(n: number, what: string): void {
  if (n > MAX_CHAIN_CERTIFICATES) malformed(`${what} holds more than ${MAX_CHAIN_CERTIFICATES} certificates`)
}

/** Percent-decodes with `decodeURIComponent` semantics: `%XX` only, `+` stays `+`. */
export function percentDecode(value: string, what: string): string {
  if (value.indexOf('%') < 0) return value
  try {
    return decodeURIComponent(value)
  } catch (cause) {
    return malformed(`${what} has an invalid percent-encoding`, cause)
  }
}

const STD_B64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * Decodes standard base64 strictly: only the standard alphabet, padding optional but correct when
 * present (RFC 8941 §3.3.5 asks parsers to accept missing padding).
 */
export function base64Decode(value: string, what: string): Buffer {
  if (value.length === 0) malformed(`${what} is empty`)
  if (!STD_B64.test(value)) malformed(`${what} is not standard base64`)
  const eq = value.indexOf('=')
  const body = eq < 0 ? value.length : eq
  if (body % 4 === 1 || (eq >= 0 && value.length % 4 !== 0)) malformed(`${what} has an invalid base64 length`)
  return Buffer.from(value, 'base64')
}

/** One DER certificate. Rejects trailing bytes after the certificate. */
export function derToCertificate(der: Uint8Array, what: string): X509Certificate {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(Buffer.from(der.buffer, der.byteOffset, der.byteLength))
  } catch (cause) {
    return malformed(`${what} is not a DER certificate`, cause)
  }
  if (cert.raw.length !== der.byteLength) malformed(`${what} has trailing bytes after the certificate`)
  return cert
}

/** Base64 of one DER certificate (HAProxy `%[ssl_c_der,base64]`, Traefik, RFC 9440 byte sequences). */
export function base64DerToCertificate(value: string, what: string): X509Certificate {
  return derToCertificate(base64Decode(value, what), what)
}

/** Base64 of back-to-back DER certificates (HAProxy `%[ssl_c_chain_der,base64]`). */
export function base64ConcatenatedDer(value: string, what: string): X509Certificate[] {
  const bytes = base64Decode(value, what)
  let ders: Buffer[]
  try {
    ders = splitConcatenatedDer(bytes)
  } catch (cause) {
    return malformed(`${what} is not concatenated DER`, cause)
  }
  checkCertificateCount(ders.length, what)
  return ders.map((d, i) => derToCertificate(d, `${what} certificate ${i + 1}`))
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*)-----END CERTIFICATE-----/y

/**
 * Text that must hold only `CERTIFICATE` PEM blocks (at least one), separated by whitespace. Anything
 * else (another block type, stray text, a `", "` join) is malformed.
 */
export function pemToCertificates(text: string, what: string): X509Certificate[] {
  const certs: X509Certificate[] = []
  let i = 0
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++
  }
  skipSpace()
  while (i < text.length) {
    PEM_BLOCK.lastIndex = i
    const m = PEM_BLOCK.exec(text)
    if (!m) malformed(`${what} is not a sequence of PEM certificates`)
    checkCertificateCount(certs.length + 1, what)
    const body = m[1]!.replace(/\s+/g, '')
    certs.push(derToCertificate(base64Decode(body, what), `${what} certificate ${certs.length + 1}`))
    i = PEM_BLOCK.lastIndex
    skipSpace()
  }
  if (certs.length === 0) malformed(`${what} holds no certificate`)
  return certs
}

/** URL-encoded PEM (nginx `$ssl_client_escaped_cert`, AWS ALB, Envoy XFCC `Cert`/`Chain`). */
export function urlEncodedPemToCertificates(value: string, what: string): X509Certificate[] {
  return pemToCertificates(percentDecode(value, what), what)
}

function isOws(c: number): boolean {
  return c === 32 || c === 9
}

/** Splits a comma-separated list, trimming blanks around members; an empty member is malformed. */
export function splitList(value: string, what: string): string[] {
  const out: string[] = []
  let start = 0
  for (let i = 0; i <= value.length; i++) {
    if (i < value.length && value.charCodeAt(i) !== 44) continue
    let a = start
    let b = i
    while (a < b && isOws(value.charCodeAt(a))) a++
    while (b > a && isOws(value.charCodeAt(b - 1))) b--
    if (a === b) malformed(`${what} has an empty list member`)
    checkCertificateCount(out.length + 1, what)
    out.push(value.slice(a, b))
    start = i + 1
  }
  return out
}

/**
 * An RFC 8941 Byte Sequence item `:base64:`, optionally followed by parameters (`;key=value`), which
 * are ignored (RFC 9440 defines none).
 */
export function sfBinaryToCertificate(item: string, what: string): X509Certificate {
  let a = 0
  let b = item.length
  while (a < b && isOws(item.charCodeAt(a))) a++
  while (b > a && isOws(item.charCodeAt(b - 1))) b--
  if (item.charCodeAt(a) !== 58) malformed(`${what} is not a structured-field byte sequence`)
  const close = item.indexOf(':', a + 1)
  if (close < 0 || close >= b) malformed(`${what} is not a structured-field byte sequence`)
  const rest = item.slice(close + 1, b)
  if (rest.length > 0 && !/^(;[ ]*[a-z*][a-z0-9_.*-]*(=[^;]*)?)+$/.test(rest)) {
    malformed(`${what} has invalid structured-field parameters`)
  }
  return base64DerToCertificate(item.slice(a + 1, close), what)
}
