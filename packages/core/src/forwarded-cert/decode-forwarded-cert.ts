import type { X509Certificate } from 'node:crypto'
import { ForwardedCertError, OptionsError } from '../errors/domain-errors.js'
import {
  base64ConcatenatedDer,
  base64DerToCertificate,
  checkCertificateCount,
  percentDecode,
  sfBinaryToCertificate,
  splitList,
  urlEncodedPemToCertificates,
} from './cert-encodings.js'
import { type ForwardedCertFormat, forwardedCertPresets } from './forwarded-cert-presets.js'

/**
 * The default limit on the header (and chain header) length: 16 KiB, Node's default limit for all headers.
 * @example
 * ```ts
 * decodeForwardedCert(value, 'alb', { maxLength: 4 * DEFAULT_FORWARDED_CERT_MAX_LENGTH })
 * ```
 */
export const DEFAULT_FORWARDED_CERT_MAX_LENGTH = 16 * 1024

/**
 * Options for {@link decodeForwardedCert}.
 *
 * @example
 * ```ts
 * const options: DecodeForwardedCertOptions = { chain: req.headers['x-ssl-client-chain'], maxLength: 32 * 1024 }
 * const [leaf, ...intermediates] = decodeForwardedCert(req.headers['x-ssl-client-cert'] ?? '', 'haproxy', options)
 * ```
 */
export interface DecodeForwardedCertOptions {
  /**
   * The companion header with the certificates after the leaf (leaf excluded): RFC 9440
   * `Client-Cert-Chain`, HAProxy `%[ssl_c_chain_der,base64]`, or URL-encoded PEM for the PEM formats.
   * Not accepted for the Traefik formats, whose one header already holds the chain.
   */
  chain?: string | readonly string[] | undefined
  /** Longest accepted value, header and chain header together, in characters. Default 16384. */
  maxLength?: number
}

interface Decoder {
  /** Whether several header lines are one comma-separated list (true) or ambiguous (false). */
  readonly list: boolean
  readonly leaf: (value: string) => X509Certificate[]
  readonly chain: ((value: string) => X509Certificate[]) | undefined
}

const pem = (value: string): X509Certificate[] => urlEncodedPemToCertificates(value, 'header')
const pemChain = (value: string): X509Certificate[] => urlEncodedPemToCertificates(value, 'chain header')

const DECODERS: Readonly<Record<ForwardedCertFormat, Decoder>> = {
  nginx: { list: false, leaf: pem, chain: pemChain },
  alb: { list: false, leaf: pem, chain: pemChain },
  'alb-leaf': { list: false, leaf: pem, chain: pemChain },
  'traefik-v2': {
    list: true,
    leaf: (value) =>
      splitList(value, 'header').map((m, i) =>
        base64DerToCertificate(percentDecode(m, `certificate ${i + 1}`), `certificate ${i + 1}`),
      ),
    chain: undefined,
  },
  'traefik-v3': {
    list: true,
    leaf: (value) =>
      splitList(value, 'header').map((m, i) => base64DerToCertificate(m, `certificate ${i + 1}`)),
    chain: undefined,
  },
  haproxy: {
    list: false,
    leaf: (value) => [base64DerToCertificate(value.trim(), 'header')],
    chain: (value) => base64ConcatenatedDer(value.trim(), 'chain header'),
  },
  rfc9440: {
    list: false,
    leaf: (value) => [sfBinaryToCertificate(value, 'Client-Cert')],
    chain: (value) =>
      splitList(value, 'Client-Cert-Chain').map((m, i) =>
        sfBinaryToCertificate(m, `Client-Cert-Chain member ${i + 1}`),
      ),
  },
}

/** @internal Validates a format name. */
export function checkFormat(format: unknown, field: string): ForwardedCertFormat {
  if (typeof format !== 'string' || !Object.hasOwn(forwardedCertPresets, format)) {
    throw new OptionsError(
      'ERR_OPTIONS_INVALID',
      `${field} must be one of ${Object.keys(forwardedCertPresets).join(', ')}`,
    )
  }
  return format as ForwardedCertFormat
}

/** @internal Validates a `maxLength` option. */
export function checkForwardedMaxLength(value: unknown, field: string): number {
  if (value === undefined) return DEFAULT_FORWARDED_CERT_MAX_LENGTH
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `${field} must be a positive integer`)
  }
  return value
}

function malformed(why: string): never {
  throw new ForwardedCertError('ERR_FORWARDED_CERT_MALFORMED', why)
}

/** Total length of a header given as one string or as lines (joined by two characters). */
function lengthOf(value: string | readonly string[] | undefined, what: string): number {
  if (value === undefined) return 0
  if (typeof value === 'string') return value.length
  if (!Array.isArray(value)) malformed(`${what} must be a string or an array of strings`)
  let n = 0
  for (let k = 0; k < value.length; k++) {
    const line: unknown = value[k]
    if (typeof line !== 'string') malformed(`${what} must be a string or an array of strings`)
    n += line.length + (k > 0 ? 2 : 0)
  }
  return n
}

/** One header as one string: list formats join lines with `,`; others allow a single non-empty line. */
function single(value: string | readonly string[], list: boolean, what: string): string {
  if (typeof value === 'string') return value
  if (list) return value.join(',')
  const lines = value.filter((l) => l.trim() !== '')
  if (lines.length > 1) malformed(`${what} was sent on ${lines.length} lines`)
  return lines[0] ?? ''
}

/** @internal {@link decodeForwardedCert} with validated arguments. */
export function decodeForwardedCertUnchecked(
  value: string | readonly string[],
  format: ForwardedCertFormat,
  chain: string | readonly string[] | undefined,
  maxLength: number,
): X509Certificate[] {
  const decoder = DECODERS[format]
  if (chain !== undefined && decoder.chain === undefined) {
    throw new OptionsError('ERR_OPTIONS_INVALID', `format "${format}" carries its chain in the header itself`)
  }
  if (lengthOf(value, 'header') + lengthOf(chain, 'chain header') > maxLength)
    malformed(`header is longer than ${maxLength} characters`)
  const text = single(value, decoder.list, 'header')
  if (text.trim() === '') malformed('header is empty')
  const certs = decoder.leaf(text)
  if (chain === undefined || decoder.chain === undefined) return certs
  const chainText = single(chain, format === 'rfc9440', 'chain header')
  if (chainText.trim() === '') return certs // Cloudflare sends "" when the client sent no intermediate
  const rest = decoder.chain(chainText)
  // The chain header excludes the leaf; tolerate a proxy that repeats it.
  if (rest.length > 0 && rest[0]!.raw.equals(certs[0]!.raw)) rest.shift()
  checkCertificateCount(certs.length + rest.length, 'header and chain header')
  return [...certs, ...rest]
}

/**
 * Decodes the client certificate chain a proxy forwarded in a header, for one proxy format (see
 * {@link ForwardedCertFormat} and {@link forwardedCertPresets}), into certificates, leaf first. Percent
 * decoding is `decodeURIComponent`: `+` is never turned into a space (AWS ALB leaves `+` literal).
 * Base64 is checked strictly (standard alphabet; padding optional, correct when present), every
 * certificate must be exactly one DER certificate, and PEM text must hold nothing but `CERTIFICATE`
 * blocks. Several header lines are joined for the list formats (Traefik); for the others more than one
 * non-empty line is ambiguous and malformed. A chain of more than `MAX_CHAIN_CERTIFICATES` (16)
 * certificates, header and chain header together, is malformed too, refused before it is parsed.
 *
 * Decoding is not verification: pass the result to `verifyX509Svid` (or use
 * {@link createForwardedCertExtractor}, which also checks that the header came from a trusted proxy).
 *
 * @throws ForwardedCertError `ERR_FORWARDED_CERT_MALFORMED` (including an empty or too long header);
 * OptionsError for an unknown format or a chain header where the format has none.
 * @example
 * ```ts
 * import { decodeForwardedCert } from '@svidkit/core/forwarded-cert'
 * const [leaf, ...intermediates] = decodeForwardedCert(req.headers['client-cert'] ?? '', 'rfc9440', {
 *   chain: req.headers['client-cert-chain'],
 * })
 * ```
 */
export function decodeForwardedCert(
  value: string | readonly string[],
  format: ForwardedCertFormat,
  options: DecodeForwardedCertOptions = {},
): X509Certificate[] {
  const f = checkFormat(format, 'format')
  const maxLength = checkForwardedMaxLength(options.maxLength, 'maxLength')
  return decodeForwardedCertUnchecked(value, f, options.chain, maxLength)
}
