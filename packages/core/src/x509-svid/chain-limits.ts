/**
 * The most certificates svidkit accepts in one X.509-SVID chain, leaf included, wherever a chain comes
 * in: `verifyX509Svid` and `parseX509Svid` (PEM, concatenated DER or certificate objects), SVID files
 * (`FileSource`, the CLI), Workload API responses, forwarded-certificate headers and the XFCC `Chain`.
 * A longer chain is refused (`ERR_X509_SVID_TOO_LARGE`, or the header's own malformed code) before
 * any certificate in it is parsed. Real chains hold a leaf and a few intermediates; `maxPathLength`
 * (default 8) bounds the verified path itself.
 *
 * @example
 * ```ts
 * import { MAX_CHAIN_CERTIFICATES } from '@svidkit/core/x509-svid'
 * if (peerChain.length > MAX_CHAIN_CERTIFICATES) console.log('svidkit will refuse this chain')
 * ```
 */
export const MAX_CHAIN_CERTIFICATES = 16

/**
 * The longest encoded chain svidkit accepts: 256 KiB of PEM text or concatenated DER, refused
 * (`ERR_X509_SVID_TOO_LARGE`) before it is scanned. Sixteen certificates with long SANs fit easily.
 *
 * @example
 * ```ts
 * import { MAX_CHAIN_BYTES } from '@svidkit/core/x509-svid'
 * if (statSync('chain.pem').size > MAX_CHAIN_BYTES) console.log('too large to be an X.509-SVID chain')
 * ```
 */
export const MAX_CHAIN_BYTES = 256 * 1024

/**
 * The most signature checks one verification may spend building a path (as Go's `crypto/x509`
 * `maxChainSignatureChecks`). Each (certificate, issuer) pair is checked at most once, and at most 1024
 * candidate paths are explored; a chain that would need more (certificates that sign each other in
 * loops) is refused as untrusted (`ERR_X509_SVID_UNTRUSTED`) instead of taking exponential time.
 *
 * @example
 * ```ts
 * import { MAX_CHAIN_SIGNATURE_CHECKS } from '@svidkit/core/x509-svid'
 * console.log(`path building gives up after ${MAX_CHAIN_SIGNATURE_CHECKS} signature checks`)
 * ```
 */
export const MAX_CHAIN_SIGNATURE_CHECKS = 100
