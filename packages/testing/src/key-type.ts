import { createPrivateKey, createPublicKey, KeyObject, webcrypto } from 'node:crypto'

/**
 * Key algorithms the test CA can issue for.
 *
 * @example
 * ```ts
 * const keyType: TestKeyType = 'rsa-2048'
 * const ca = await TestCA.create({ trustDomain: 'example.org', keyType, jwtKeyType: 'ec-p384' }) // ES384 JWT-SVIDs
 * ```
 */
export type TestKeyType = 'ec-p256' | 'ec-p384' | 'ec-p521' | 'rsa-2048' | 'rsa-3072' | 'ed25519'

/**
 * A key pair usable both by @peculiar/x509 (CryptoKey) and by node:crypto (KeyObject).
 *
 * @example
 * ```ts
 * const pair: TestKeyPair = await generateTestKeyPair('ed25519')
 * pair.privateKey.asymmetricKeyType // 'ed25519'
 * pair.cryptoKeys.publicKey // the same public key as a WebCrypto CryptoKey
 * ```
 */
export interface TestKeyPair {
  readonly type: TestKeyType
  readonly cryptoKeys: webcrypto.CryptoKeyPair
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
}

type SigningAlgorithm =
  | webcrypto.AlgorithmIdentifier
  | webcrypto.RsaHashedImportParams
  | webcrypto.EcdsaParams

function algorithm(type: TestKeyType): {
  gen: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams | { name: string }
  sign: SigningAlgorithm
} {
  switch (type) {
    case 'ec-p256':
      return { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } }
    case 'ec-p384':
      return { gen: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } }
    case 'ec-p521':
      return { gen: { name: 'ECDSA', namedCurve: 'P-521' }, sign: { name: 'ECDSA', hash: 'SHA-512' } }
    case 'rsa-2048':
    case 'rsa-3072':
      return {
        gen: {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: type === 'rsa-2048' ? 2048 : 3072,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        },
        sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      }
    case 'ed25519':
      return { gen: { name: 'Ed25519' }, sign: { name: 'Ed25519' } }
  }
}

/**
 * Generates a key pair of the given type (default `ec-p256`).
 *
 * @example
 * ```ts
 * const attacker = await generateTestKeyPair() // ec-p256, like the CA's default key
 * const forged = await ca.issueX509Svid({ id: '/web', broken: { signWith: attacker } })
 * ```
 */
export async function generateTestKeyPair(type: TestKeyType = 'ec-p256'): Promise<TestKeyPair> {
  const { gen } = algorithm(type)
  const cryptoKeys = (await webcrypto.subtle.generateKey(gen, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair
  return {
    type,
    cryptoKeys,
    privateKey: KeyObject.from(cryptoKeys.privateKey),
    publicKey: KeyObject.from(cryptoKeys.publicKey),
  }
}

/**
 * Imports a PKCS#8 PEM private key of the given type as a {@link TestKeyPair} (its public half is
 * derived from it).
 *
 * @example
 * ```ts
 * const pair = await importTestKeyPair(readFileSync('ca-key.pem', 'utf8'), 'ec-p256')
 * ```
 */
export async function importTestKeyPair(privateKeyPem: string, type: TestKeyType): Promise<TestKeyPair> {
  const privateKey = createPrivateKey(privateKeyPem)
  const publicKey = createPublicKey(privateKey)
  const { gen } = algorithm(type)
  const importAlgorithm = 'namedCurve' in gen || gen.name === 'Ed25519' ? gen : { ...gen, hash: 'SHA-256' }
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' })
  const spki = publicKey.export({ format: 'der', type: 'spki' })
  const cryptoKeys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, importAlgorithm, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, importAlgorithm, true, ['verify']),
  }
  return { type, cryptoKeys, privateKey, publicKey }
}

/** The signature algorithm a CA with this key type signs certificates with. */
export function signingAlgorithm(type: TestKeyType): SigningAlgorithm {
  return algorithm(type).sign
}
