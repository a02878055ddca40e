/**
 * X.509 key usage bits (RFC 5280 §4.2.1.3), combined with `|`, for the test CA's deliberately broken
 * certificates (`broken.keyUsage`). Defined here, with the same values as @peculiar/x509's enum, so
 * that this package's declarations do not expose that library's types.
 *
 * @example
 * ```ts
 * const leafIsSigner = await ca.issueX509Svid({
 *   id: '/web',
 *   broken: { keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign },
 * })
 * ```
 */
export const KeyUsageFlags = Object.freeze({
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
} as const)

/**
 * A combination of {@link KeyUsageFlags} bits.
 *
 * @example
 * ```ts
 * const usage: KeyUsageFlags = KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment
 * ```
 */
export type KeyUsageFlags = number
