// Hand-made JWS for the cases TestCA (which signs through jose) cannot produce: unknown `crit`,
// `alg: none`, keys of the wrong kind for `alg`, and raw segments.
import { constants, createHmac, type KeyObject, sign } from 'node:crypto'
import { SvidkitError } from '@svidkit/core/errors'

export const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/**
 * Signs `header.payload` with node:crypto as the JWS `alg` says: ES*, RS*, PS*, HS*, EdDSA; `none`
 * or no key gives an empty signature, any other `alg` a fixed garbage one.
 */
export function signJws(header: Record<string, unknown>, payload: unknown, key?: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`
  const m = /^(ES|RS|PS|HS)(256|384|512)$/.exec(String(header.alg))
  let sig: Buffer
  if (header.alg === 'none' || key === undefined) sig = Buffer.alloc(0)
  else if (header.alg === 'EdDSA') sig = sign(null, Buffer.from(input), key)
  else if (!m) sig = Buffer.alloc(64, 7)
  else {
    const [, family, bits] = m as unknown as [string, string, string]
    const hash = `sha${bits}`
    if (family === 'HS') sig = createHmac(hash, key).update(input).digest()
    else if (family === 'ES') sig = sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    else if (family === 'PS')
      sig = sign(hash, Buffer.from(input), {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: Number(bits) / 8,
      })
    else sig = sign(hash, Buffer.from(input), key)
  }
  return `${input}.${sig.toString('base64url')}`
}

/** The SvidkitError `fn` throws (fails the test when it returns or throws something else). */
export const errorOf = (fn: () => unknown): SvidkitError => {
  try {
    fn()
  } catch (err) {
    if (err instanceof SvidkitError) return err
    throw err
  }
  throw new Error('expected a SvidkitError, got a result')
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)
