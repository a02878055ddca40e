/**
 * X.509-SVIDs: parse your own SVID (chain + PKCS#8 key) and verify a peer's chain against the bundle
 * of the peer's own trust domain (X509-SVID §5), stricter than go-spiffe where the spec says MUST.

 *
 * Limits: a chain holds at most {@link MAX_CHAIN_CERTIFICATES} (16) certificates and
 * {@link MAX_CHAIN_BYTES} (256 KiB) of PEM or DER, wherever it comes from (`ERR_X509_SVID_TOO_LARGE`,
 * refused before any certificate is parsed); path building spends at most
 * {@link MAX_CHAIN_SIGNATURE_CHECKS} (100) signature checks and 1024 candidate paths.
 *
 * Cache: parsed certificate details (key usage, SANs, constraints) are kept once per live
 * `X509Certificate` object (a `WeakMap`, freed with the object) and for the last **1024**
 * certificates by content (SHA-256 fingerprint; oldest dropped first), so a certificate that comes
 * back on a new connection is not parsed again. *
 * @example
 * ```ts
 * import { verifyX509Svid } from '@svidkit/core/x509-svid'
 * const { id } = verifyX509Svid(peerChainPem, bundleSet)
 * ```
 * @module
 */
export { MAX_CHAIN_BYTES, MAX_CHAIN_CERTIFICATES, MAX_CHAIN_SIGNATURE_CHECKS } from './chain-limits.js'
export { getX509SvidId } from './get-x509-svid-id.js'
export { marshalX509Svid } from './marshal-x509-svid.js'
export type { ParseX509SvidOptions } from './parse-x509-svid.js'
export { parseX509Svid } from './parse-x509-svid.js'
export type { CertificateChainInput, VerifiedX509Svid, VerifyX509SvidOptions } from './verify-x509-svid.js'
export { verifyX509Svid } from './verify-x509-svid.js'
export type { X509Svid, X509SvidSource } from './x509-svid.js'
