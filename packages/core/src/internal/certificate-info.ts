// Reads what node:crypto's X509Certificate cannot: KeyUsage bits, BasicConstraints, the exact list of
// URI SANs, name constraints and critical extensions, parsed once per certificate object with
// @peculiar/asn1-x509 and memoized. Not exported from the package.
import { createHash, X509Certificate } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import {
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
  KeyUsage,
  KeyUsageFlags,
  NameConstraints,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509'

export interface KeyUsageInfo {
  readonly present: boolean
  readonly critical: boolean
  readonly digitalSignature: boolean
  readonly keyCertSign: boolean
  readonly cRLSign: boolean
}

export interface NameConstraintsInfo {
  readonly permittedUris: readonly string[]
  readonly excludedUris: readonly string[]
  readonly permittedDns: readonly string[]
  readonly excludedDns: readonly string[]
  /** Subtrees of a form we do not evaluate (directoryName, iPAddress, …). */
  readonly unsupported: boolean
}

export interface CertificateInfo {
  readonly x509: X509Certificate
  readonly der: Buffer
  readonly uris: readonly string[]
  readonly dnsNames: readonly string[]
  readonly isCA: boolean
  readonly pathLen: number | undefined
  readonly keyUsage: KeyUsageInfo
  readonly extKeyUsage: readonly string[] | undefined
  readonly nameConstraints: NameConstraintsInfo | undefined
  readonly unhandledCritical: readonly string[]
  readonly notBefore: number
  readonly notAfter: number
  /** Lowercase hex SHA-256 of the DER (the XFCC `Hash`). */
  readonly sha256: string
}

// Extensions whose semantics we enforce (or which carry no constraint we must honour).
const HANDLED = new Set([
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_extKeyUsage,
  id_ce_subjectAltName,
  id_ce_nameConstraints,
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.32', // certificatePolicies: any policy is accepted
])

const cache = new WeakMap<X509Certificate, CertificateInfo>()
// The same certificate arrives as a new object on every connection (a reconnecting client, every
// chain's intermediates): also remember parses by content, in a small bounded map (insertion order).
const byFingerprint = new Map<string, CertificateInfo>()
const MAX_BY_FINGERPRINT = 1024

/** Parses (once) and returns the extension details of a certificate. Throws on malformed DER. */
export function getCertificateInfo(x509: X509Certificate): CertificateInfo {
  const hit = cache.get(x509)
  if (hit) return hit
  const fingerprint = x509.fingerprint256
  const known = byFingerprint.get(fingerprint)
  if (known) {
    cache.set(x509, known)
    return known
  }
  const info = parseCertificateInfo(x509)
  cache.set(x509, info)
  if (byFingerprint.size >= MAX_BY_FINGERPRINT) byFingerprint.delete(byFingerprint.keys().next().value!)
  byFingerprint.set(fingerprint, info)
  return info
}

function parseCertificateInfo(x509: X509Certificate): CertificateInfo {
  const der = x509.raw
  const cert = AsnConvert.parse(der, Certificate)
  const tbs = cert.tbsCertificate
  const uris: string[] = []
  const dnsNames: string[] = []
  let isCA = false
  let pathLen: number | undefined
  let keyUsage: KeyUsageInfo = {
    present: false,
    critical: false,
    digitalSignature: false,
    keyCertSign: false,
    cRLSign: false,
  }
  let extKeyUsage: string[] | undefined
  let nameConstraints: NameConstraintsInfo | undefined
  const unhandledCritical: string[] = []
  const seen = new Set<string>()
  for (const ext of tbs.extensions ?? []) {
    const value = ext.extnValue.buffer
    if (seen.has(ext.extnID)) throw new Error(`duplicate extension ${ext.extnID}`)
    seen.add(ext.extnID)
    switch (ext.extnID) {
      case id_ce_basicConstraints: {
        const bc = AsnConvert.parse(value, BasicConstraints)
        isCA = bc.cA
        pathLen = bc.pathLenConstraint
        break
      }
      case id_ce_keyUsage: {
        const ku = AsnConvert.parse(value, KeyUsage).toNumber()
        keyUsage = {
          present: true,
          critical: ext.critical,
          digitalSignature: (ku & KeyUsageFlags.digitalSignature) !== 0,
          keyCertSign: (ku & KeyUsageFlags.keyCertSign) !== 0,
          cRLSign: (ku & KeyUsageFlags.cRLSign) !== 0,
        }
        break
      }
      case id_ce_extKeyUsage:
        extKeyUsage = AsnConvert.parse(value, ExtendedKeyUsage).map((oid) => String(oid))
        break
      case id_ce_subjectAltName:
        for (const name of AsnConvert.parse(value, SubjectAlternativeName)) {
          if (name.uniformResourceIdentifier !== undefined) uris.push(name.uniformResourceIdentifier)
          if (name.dNSName !== undefined) dnsNames.push(name.dNSName)
        }
        break
      case id_ce_nameConstraints: {
        const nc = AsnConvert.parse(value, NameConstraints)
        const info = {
          permittedUris: [] as string[],
          excludedUris: [] as string[],
          permittedDns: [] as string[],
          excludedDns: [] as string[],
          unsupported: false,
        }
        const collect = (
          subtrees: typeof nc.permittedSubtrees,
          uriList: string[],
          dnsList: string[],
        ): void => {
          for (const st of subtrees ?? []) {
            if (st.base.uniformResourceIdentifier !== undefined)
              uriList.push(st.base.uniformResourceIdentifier)
            else if (st.base.dNSName !== undefined) dnsList.push(st.base.dNSName)
            else info.unsupported = true
          }
        }
        collect(nc.permittedSubtrees, info.permittedUris, info.permittedDns)
        collect(nc.excludedSubtrees, info.excludedUris, info.excludedDns)
        nameConstraints = info
        break
      }
      default:
        if (ext.critical && !HANDLED.has(ext.extnID)) unhandledCritical.push(ext.extnID)
    }
  }
  const info: CertificateInfo = {
    x509,
    der,
    uris,
    dnsNames,
    isCA,
    pathLen,
    keyUsage,
    extKeyUsage,
    nameConstraints,
    unhandledCritical,
    notBefore: tbs.validity.notBefore.getTime().getTime(),
    notAfter: tbs.validity.notAfter.getTime().getTime(),
    sha256: createHash('sha256').update(der).digest('hex'),
  }
  return info
}

/** Builds an X509Certificate from DER, PEM text or an existing object. Throws on malformed input. */
export function toX509(input: X509Certificate | Uint8Array | string): X509Certificate {
  if (input instanceof X509Certificate) return input
  return new X509Certificate(typeof input === 'string' ? input : Buffer.from(input))
}
