import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto'
import { X509SvidError } from '../errors/domain-errors.js'
import { decodePem } from '../internal/pem.js'
import { certInfo, checkLeaf, checkSigner, idFromInfo } from './leaf-rules.js'
import { type CertificateChainInput, normalizeChain } from './verify-x509-svid.js'
import type { X509Svid } from './x509-svid.js'

/**
 * Options for {@link parseX509Svid}.
 *
 * @example
 * ```ts
 * const options: ParseX509SvidOptions = { hint: 'internal' }
 * parseX509Svid(certPem, keyPem, options).hint // 'internal'
 * ```
 */
export interface ParseX509SvidOptions {
  /** The Workload API hint to attach. */
  hint?: string | undefined
}

/**
 * Parses and checks a workload's **own** X.509-SVID: a certificate chain (leaf first) and its PKCS#8
 * private key, as PEM text or DER bytes (the Workload API's concatenated DER and DER PKCS#8). With
 * PEM, the chain and key may share one document, in either order (omit `key` then).
 *
 * Checks: exactly one URI SAN, a SPIFFE ID with a non-root path; the leaf profile (`cA=false`,
 * `digitalSignature`, no `keyCertSign`/`cRLSign`); every intermediate with `cA=true` and
 * `keyCertSign`; and that the key matches the leaf.
 *
 * @throws X509SvidError
 * @example
 * ```ts
 * import { parseX509Svid } from '@svidkit/core/x509-svid'
 * const svid = parseX509Svid(readFileSync('svid.pem', 'utf8'), readFileSync('svid_key.pem', 'utf8'))
 * svid.id.toString() // 'spiffe://example.org/web'
 * ```
 */
export function parseX509Svid(
  certificates: CertificateChainInput,
  key?: string | Uint8Array | KeyObject,
  options: ParseX509SvidOptions = {},
): X509Svid {
  let certs: X509Certificate[]
  try {
    certs = normalizeChain(certificates)
  } catch (cause) {
    if (cause instanceof X509SvidError && cause.code === 'ERR_X509_SVID_TOO_LARGE') throw cause
    throw new X509SvidError(
      'ERR_X509_SVID_MALFORMED',
      'certificate validation failed: cannot parse certificate',
      { cause },
    )
  }
  if (certs.length === 0) {
    throw new X509SvidError(
      'ERR_X509_SVID_EMPTY_CHAIN',
      'certificate validation failed: no certificates found',
    )
  }
  const privateKey = readKey(key ?? (typeof certificates === 'string' ? certificates : undefined))
  const leafInfo = certInfo(certs[0]!, 'leaf')
  const id = idFromInfo(leafInfo)
  checkLeaf(leafInfo, id, { requireCriticalKeyUsage: false, enforceExtKeyUsage: false })
  for (const [i, c] of certs.slice(1).entries()) {
    checkSigner(certInfo(c, `intermediate ${i + 1}`), 'signing certificate')
  }
  if (!certs[0]!.checkPrivateKey(privateKey)) {
    throw new X509SvidError('ERR_X509_SVID_KEY_MISMATCH', 'leaf certificate does not match private key')
  }
  return Object.freeze({
    id,
    certificates: Object.freeze(certs),
    privateKey,
    hint: options.hint,
    expiresAt: new Date(leafInfo.notAfter),
  })
}

function readKey(key: string | Uint8Array | KeyObject | undefined): KeyObject {
  if (key === undefined)
    throw new X509SvidError(
      'ERR_X509_SVID_KEY_INVALID',
      'private key validation failed: no private key found',
    )
  if (typeof key === 'object' && !(key instanceof Uint8Array)) {
    if (key.type !== 'private')
      throw new X509SvidError('ERR_X509_SVID_KEY_INVALID', 'private key validation failed: not a private key')
    return key
  }
  try {
    if (typeof key === 'string') {
      const blocks = decodePem(key).filter((b) => b.label === 'PRIVATE KEY')
      if (blocks.length === 0) {
        throw new X509SvidError(
          'ERR_X509_SVID_KEY_INVALID',
          'private key validation failed: no private key found',
        )
      }
      if (blocks.length > 1) {
        throw new X509SvidError(
          'ERR_X509_SVID_KEY_INVALID',
          'private key validation failed: more than one private key',
        )
      }
      return createPrivateKey({ key: blocks[0]!.der, format: 'der', type: 'pkcs8' })
    }
    return createPrivateKey({ key: Buffer.from(key), format: 'der', type: 'pkcs8' })
  } catch (cause) {
    if (cause instanceof X509SvidError) throw cause
    throw new X509SvidError(
      'ERR_X509_SVID_KEY_INVALID',
      'private key validation failed: cannot parse PKCS#8 private key',
      {
        cause,
      },
    )
  }
}
