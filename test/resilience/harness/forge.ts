// Certificates no test CA would issue, built with @peculiar/x509: a leaf and CA certificates that all
// share one name and one key, so that every one of them verifies every other — the shape that made
// path building exponential before it was bounded.
import 'reflect-metadata'
import { webcrypto, X509Certificate } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto)
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }

/** A leaf for `spiffeId` and `n` CA certificates, all named `CN=loop` and signed by one key. */
export async function signingLoop(spiffeId: string, n: number): Promise<X509Certificate[]> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const make = async (serial: number, extensions: x509.Extension[]) =>
    new X509Certificate(
      Buffer.from(
        (
          await x509.X509CertificateGenerator.create({
            serialNumber: (serial + 1).toString(16).padStart(2, '0'),
            subject: 'CN=loop',
            issuer: 'CN=loop',
            notBefore: new Date(Date.now() - 60_000),
            notAfter: new Date(Date.now() + 3_600_000),
            signingAlgorithm: ALG,
            publicKey: keys.publicKey,
            signingKey: keys.privateKey,
            extensions,
          })
        ).rawData,
      ),
    )
  const leaf = await make(0, [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }]),
  ])
  const cas = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      make(i + 1, [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      ]),
    ),
  )
  return [leaf, ...cas]
}
