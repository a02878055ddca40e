// JWS / JWT mechanics shared by JWT-SVID verification (jwt-svid/) and, later, OIDC token
// verification (oidc/). Not exported from the package.
//
// Everything here is synchronous and allocation-light: a hand-written compact split, base64url +
// JSON.parse of the header and payload, an alg allowlist mapped to node:crypto.verify parameters,
// key/alg compatibility, NumericDate checks with clock skew, and audience matching. Every check that
// fails calls the caller's `JwsErrorFactory`, so each domain throws its own error class and codes
// (`ERR_JWT_SVID_*`, `ERR_OIDC_*`) while the reasons stay worded the same way (go-spiffe's wording
// where it has one).
//
// Security notes:
// - Security-relevant members are read as own properties only (`own`), so a polluted
//   `Object.prototype` cannot supply a missing `exp`, `aud` or `kid`.
// - The key is never taken from the token (`jwk`, `jku`, `x5c`, `x5u` are ignored); callers look it up
//   by `kid` in material they trust, then call `prepareVerifyKey` and `verifyJwsSignature`.
// - Messages never contain the token, a segment of it or a key; claim values quoted in a message
//   (audiences) are truncated by `formatList`.
import { constants, verify as cryptoVerify, type KeyObject } from 'node:crypto'

/** What went wrong, independent of the domain. Each domain maps these to its own error codes. */
export type JwsFailure =
  | 'malformed'
  | 'too_large'
  | 'alg'
  | 'typ'
  | 'crit'
  | 'kid'
  | 'aud_missing'
  | 'aud_mismatch'
  | 'exp_missing'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'claim'
  | 'key_alg'
  | 'signature'

/**
 * Builds the error to throw for a failure; the caller picks the class and code (for example
 * `(f, reason, cause) => new OidcError(OIDC_CODES[f], reason, { cause })`). Must not throw itself.
 */
export type JwsErrorFactory = (failure: JwsFailure, reason: string, cause?: unknown) => Error

/** A decoded JSON object from a token (header or claims). */
export type JsonObject = Record<string, unknown>

/** The nine asymmetric JWS algorithms JWT-SVID §2.1 allows (RFC 7518 §3.1). */
export type JwsAlgorithmName =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'

/** What `node:crypto.verify` needs for one JWS `alg`. */
export interface JwsAlgorithm {
  readonly name: JwsAlgorithmName
  /** RSASSA-PKCS1-v1_5, RSASSA-PSS or ECDSA. */
  readonly family: 'RS' | 'PS' | 'ES'
  /** The node:crypto digest name. */
  readonly hash: 'sha256' | 'sha384' | 'sha512'
  /** Digest length in bytes (the PSS salt length, RFC 7518 §3.5). */
  readonly hashBytes: 32 | 48 | 64
  /** ES only: the OpenSSL curve name the key must be on. */
  readonly curve: 'prime256v1' | 'secp384r1' | 'secp521r1' | undefined
  /** ES only: the IEEE P1363 signature length (r‖s). */
  readonly signatureBytes: number | undefined
}

function algorithm(name: JwsAlgorithmName): JwsAlgorithm {
  const bits = Number(name.slice(2)) as 256 | 384 | 512
  const family = name.slice(0, 2) as 'RS' | 'PS' | 'ES'
  const curve =
    family !== 'ES' ? undefined : bits === 256 ? 'prime256v1' : bits === 384 ? 'secp384r1' : 'secp521r1'
  return Object.freeze({
    name,
    family,
    hash: `sha${bits}` as JwsAlgorithm['hash'],
    hashBytes: (bits / 8) as JwsAlgorithm['hashBytes'],
    curve,
    signatureBytes: family !== 'ES' ? undefined : bits === 256 ? 64 : bits === 384 ? 96 : 132,
  })
}

/** Every allowed `alg` → its verify parameters. `none`, HS*, EdDSA and anything else are absent. */
export const JWS_ALGORITHMS: ReadonlyMap<string, JwsAlgorithm> = new Map(
  (['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const).map((n) => [
    n,
    algorithm(n),
  ]),
)

/** Reads an own property (never an inherited one). */
export function own(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined
}

// ---------------------------------------------------------------------------------------------
// Compact serialization

/** The positions of the two dots of a compact JWS: header = [0, dot1), payload = (dot1, dot2), signature = (dot2, end). */
export interface CompactJws {
  readonly token: string
  readonly dot1: number
  readonly dot2: number
}

/**
 * Splits a compact JWS (RFC 7515 §7.1) after checking its type, its size (`maxLength` characters,
 * which equals bytes for any well-formed token), that it is not the JSON serialization (`{…}`,
 * forbidden by JWT-SVID §1) nor JWE (five segments), that header and payload are non-empty, and that
 * no segment has a length base64url cannot have. The signature may be empty here so that `alg: none`
 * is reported as a forbidden algorithm. The alphabet is checked when each segment is decoded
 * (`decodeBase64url`), which is cheaper than a regular expression over the whole token.
 */
export function splitCompactJws(token: unknown, maxLength: number, fail: JwsErrorFactory): CompactJws {
  if (typeof token !== 'string') throw fail('malformed', 'unable to parse JWT token: token is not a string')
  if (token.length > maxLength) {
    throw fail('too_large', `token is larger than ${maxLength} bytes`)
  }
  const dot1 = token.indexOf('.')
  const dot2 = dot1 === -1 ? -1 : token.indexOf('.', dot1 + 1)
  if (dot1 <= 0 || dot2 <= dot1 + 1 || token.indexOf('.', dot2 + 1) !== -1) {
    throw fail(
      'malformed',
      token.trimStart().charCodeAt(0) === 0x7b
        ? 'unable to parse JWT token: JWS JSON serialization is not supported, only the compact serialization'
        : 'unable to parse JWT token: not a compact JWS (three base64url segments)',
    )
  }
  // Standard-base64 characters, which Node's base64url decoder would otherwise accept.
  if (token.indexOf('+') !== -1 || token.indexOf('/') !== -1) {
    throw fail('malformed', 'unable to parse JWT token: segment is not base64url')
  }
  // A base64url segment of length 4k+1 cannot be decoded (6 bits do not make a byte).
  if (dot1 % 4 === 1 || (dot2 - dot1 - 1) % 4 === 1 || (token.length - dot2 - 1) % 4 === 1) {
    throw fail('malformed', 'unable to parse JWT token: invalid base64url segment length')
  }
  return { token, dot1, dot2 }
}

/**
 * Decodes `token[start, end)` as unpadded base64url, strictly. Node's decoder skips characters outside
 * its alphabet and stops at `=`; `splitCompactJws` refused `+` and `/`, so the decoded length is
 * exactly ⌊3n/4⌋ if and only if every character was base64url.
 */
export function decodeBase64url(
  token: string,
  start: number,
  end: number,
  what: string,
  fail: JwsErrorFactory,
): Buffer {
  const bytes = Buffer.from(token.substring(start, end), 'base64url')
  if (bytes.length !== ((end - start) * 3) >>> 2) {
    throw fail('malformed', `unable to parse JWT token: ${what} is not base64url`)
  }
  return bytes
}

// A scratch buffer reused by every decode and signature check: no allocation per token for the
// payload bytes, the signing input or the signature. Everything runs synchronously and no caller code
// runs while it is in use, so it is never shared between two tokens. The signature check zeroes what
// it wrote, so the scratch never holds a whole token (a bearer credential). Tokens larger than the
// scratch use ordinary buffers.
const SCRATCH_BYTES = 16 * 1024
let scratch: Buffer | undefined

function scratchFor(length: number): Buffer | undefined {
  if (length > SCRATCH_BYTES) return undefined
  scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES)
  return scratch
}

/**
 * Decodes one base64url segment of `token` (`[start, end)`) as UTF-8 JSON that must be an object.
 * `what` names it in the message (`header`, `payload`). Strict base64url, as `decodeBase64url`.
 */
export function decodeJsonSegment(
  token: string,
  start: number,
  end: number,
  what: string,
  fail: JwsErrorFactory,
): JsonObject {
  let text: string
  const buf = scratchFor(end - start)
  if (buf === undefined) text = decodeBase64url(token, start, end, what, fail).toString('utf8')
  else {
    // Not zeroed: the decoded header and claims are handed to the caller anyway.
    const n = buf.write(token.substring(start, end), 0, 'base64url')
    text = buf.toString('utf8', 0, n)
    if (n !== ((end - start) * 3) >>> 2) {
      throw fail('malformed', `unable to parse JWT token: ${what} is not base64url`)
    }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw fail('malformed', `unable to parse JWT token: ${what} is not valid JSON`, cause)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail('malformed', `unable to parse JWT token: ${what} is not a JSON object`)
  }
  return value as JsonObject
}

/**
 * Remembers the header segments of the last few tokens that passed the header checks, with what they
 * decoded to: a signer sends the same header (`alg`, `kid`, `typ`) on every token, so this skips the
 * base64url + JSON.parse + checks of the header. Only values derived from the segment alone may be
 * stored. Segments are copied, so a token is never kept alive by the memo.
 */
export class RecentHeaders<V> {
  readonly #segments: string[] = []
  readonly #values: V[] = []
  readonly #max: number
  #next = 0

  constructor(max = 8) {
    this.#max = max
  }

  /** The value remembered for the header segment `token[0, dot1)`, if any. */
  find(jws: CompactJws): V | undefined {
    const segments = this.#segments
    if (segments.length === 0) return undefined
    // A sliced substring compared with `===` is several times cheaper than `startsWith` with a
    // non-constant argument, or than hashing the substring for a Map (measured on Node 20).
    const segment = jws.token.substring(0, jws.dot1)
    for (let i = 0; i < segments.length; i++) if (segments[i] === segment) return this.#values[i]
    return undefined
  }

  /** Remembers `value` for the header segment of `jws`, replacing the oldest one when full. */
  remember(jws: CompactJws, value: V): void {
    const i = this.#segments.length < this.#max ? this.#segments.length : this.#next
    this.#next = (i + 1) % this.#max
    this.#segments[i] = Buffer.from(jws.token.substring(0, jws.dot1), 'latin1').toString('latin1')
    this.#values[i] = value
  }
}

// ---------------------------------------------------------------------------------------------
// Protected header

/**
 * Checks `alg` against an allowlist (default: the nine of JWT-SVID §2.1) and returns its verify
 * parameters. Call it first, before any other header or payload processing (JWT-SVID §4).
 */
export function checkAlgorithm(
  header: JsonObject,
  fail: JwsErrorFactory,
  allowed: ReadonlyMap<string, JwsAlgorithm> = JWS_ALGORITHMS,
): JwsAlgorithm {
  const alg = own(header, 'alg')
  const found = typeof alg === 'string' ? allowed.get(alg) : undefined
  if (found === undefined) {
    throw fail(
      'alg',
      typeof alg === 'string'
        ? `unable to parse JWT token: unsupported signature algorithm ${quote(alg)}`
        : 'unable to parse JWT token: header is missing "alg"',
    )
  }
  return found
}

/**
 * Checks `typ` when present: it must be one of `accepted` exactly (JWT-SVID §2.3: `JWT` or `JOSE`).
 * An absent `typ` passes.
 */
export function checkType(header: JsonObject, accepted: readonly string[], fail: JwsErrorFactory): void {
  if (!Object.hasOwn(header, 'typ')) return
  const typ = header.typ
  if (typeof typ === 'string' && accepted.includes(typ)) return
  throw fail(
    'typ',
    accepted.length === 1
      ? `token header type not equal to ${accepted[0]}`
      : `token header type not equal to either ${accepted.join(' or ')}`,
  )
}

/**
 * Checks `crit` (RFC 7515 §4.1.11): when present it must be a non-empty array of header names that
 * are all in `understood` and present in the header. JWT-SVID understands no extension, so it passes
 * an empty set and any `crit` is refused.
 */
export function checkCritical(
  header: JsonObject,
  fail: JwsErrorFactory,
  understood: ReadonlySet<string> = EMPTY_SET,
): void {
  if (!Object.hasOwn(header, 'crit')) return
  const crit = header.crit
  if (!Array.isArray(crit) || crit.length === 0) {
    throw fail('crit', 'token header "crit" must be a non-empty array')
  }
  for (const name of crit) {
    if (typeof name !== 'string' || !understood.has(name) || !Object.hasOwn(header, name)) {
      throw fail(
        'crit',
        typeof name === 'string'
          ? `token header has an unsupported critical extension ${quote(name)}`
          : 'token header "crit" must list header names',
      )
    }
  }
}

const EMPTY_SET: ReadonlySet<string> = new Set()

/**
 * Reads `kid`, which must be a non-empty string. The JWS and JWT-SVID specs make it optional, but a
 * bundle or JWKS lookup needs it (go-spiffe and java-spiffe also require it).
 */
export function readKeyId(header: JsonObject, fail: JwsErrorFactory): string {
  const kid = own(header, 'kid')
  if (kid === undefined || kid === '') throw fail('kid', 'token header missing key id')
  if (typeof kid !== 'string') throw fail('malformed', 'unable to parse JWT token: "kid" is not a string')
  return kid
}

// ---------------------------------------------------------------------------------------------
// Keys and signatures

/** A public key checked against one `alg`, ready for `verifyJwsSignature`. */
export interface JwsVerifyKey {
  readonly alg: JwsAlgorithm
  /** The key argument of node:crypto.verify (with `dsaEncoding` or PSS `padding`/`saltLength`). */
  readonly input: KeyObject | { readonly key: KeyObject; readonly [option: string]: unknown }
  /** The only signature length this key can produce for `alg`. */
  readonly signatureBytes: number
}

interface KeyFacts {
  readonly type: string | undefined
  readonly curve: string | undefined
  readonly bits: number | undefined
  readonly prepared: Map<JwsAlgorithmName, JwsVerifyKey>
}

// asymmetricKeyDetails allocates on every read and keys are long-lived: facts and prepared verify
// keys are memoized per KeyObject (bundle authorities are imported once, so this is one entry per key).
const keyFacts = new WeakMap<KeyObject, KeyFacts>()

/** The shortest RSA modulus accepted, as jose and RFC 7518 §3.3 require. */
export const MIN_RSA_BITS = 2048

const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
}

/**
 * Checks that `key` can verify `alg` and returns it prepared for `verifyJwsSignature`: ES256/384/512
 * need an EC key on P-256/P-384/P-521 (signatures as IEEE P1363 `r‖s`); RS* an RSA key; PS* an RSA
 * or RSA-PSS key (salt as long as the digest, RFC 7518 §3.5); RSA keys of at least 2048 bits. A key of
 * the wrong kind is a misconfiguration or an attack (algorithm confusion) and fails with `key_alg`
 * before any signature work. Memoized per (key, alg).
 */
export function prepareVerifyKey(key: KeyObject, alg: JwsAlgorithm, fail: JwsErrorFactory): JwsVerifyKey {
  let facts = keyFacts.get(key)
  if (facts === undefined) {
    const details = key.type === 'public' || key.type === 'private' ? key.asymmetricKeyDetails : undefined
    facts = {
      type: key.type === 'public' || key.type === 'private' ? key.asymmetricKeyType : undefined,
      curve: details?.namedCurve,
      bits: details?.modulusLength,
      prepared: new Map(),
    }
    keyFacts.set(key, facts)
  }
  const prepared = facts.prepared.get(alg.name)
  if (prepared !== undefined) return prepared
  let verifyKey: JwsVerifyKey
  if (alg.family === 'ES') {
    if (facts.type !== 'ec' || facts.curve !== alg.curve) {
      throw fail('key_alg', `token algorithm ${alg.name} requires an EC ${CURVE_NAMES[alg.curve!]} key`)
    }
    verifyKey = { alg, input: { key, dsaEncoding: 'ieee-p1363' }, signatureBytes: alg.signatureBytes! }
  } else {
    const rsa = facts.type === 'rsa' || (alg.family === 'PS' && facts.type === 'rsa-pss')
    if (!rsa || (facts.bits ?? 0) < MIN_RSA_BITS) {
      throw fail(
        'key_alg',
        `token algorithm ${alg.name} requires an RSA key of at least ${MIN_RSA_BITS} bits`,
      )
    }
    verifyKey = {
      alg,
      input:
        alg.family === 'PS'
          ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.hashBytes }
          : key,
      signatureBytes: Math.ceil(facts.bits! / 8),
    }
  }
  facts.prepared.set(alg.name, Object.freeze(verifyKey))
  return verifyKey
}

/**
 * Verifies the signature of a compact JWS with `node:crypto.verify` (synchronous, no WebCrypto) and a
 * key from `prepareVerifyKey`. Any failure, including a signature of the wrong length or one
 * OpenSSL cannot parse, is `signature`.
 */
export function verifyJwsSignature(jws: CompactJws, key: JwsVerifyKey, fail: JwsErrorFactory): void {
  const { token, dot2 } = jws
  const sigChars = token.length - dot2 - 1
  // Signing input (ASCII) at [0, dot2), the decoded signature right after it.
  const buf = scratchFor(token.length)
  let ok = false
  if (buf === undefined) {
    const signature = decodeBase64url(token, dot2 + 1, token.length, 'signature', fail)
    ok =
      signature.length === key.signatureBytes &&
      verifyOrFalse(key, Buffer.from(token.substring(0, dot2), 'latin1'), signature)
  } else {
    const n = sigChars === 0 ? 0 : buf.write(token.substring(dot2 + 1), dot2, 'base64url')
    if (n !== (sigChars * 3) >>> 2) {
      buf.fill(0, dot2, dot2 + n)
      throw fail('malformed', 'unable to parse JWT token: signature is not base64url')
    }
    if (n === key.signatureBytes) {
      buf.write(token, 0, dot2, 'latin1')
      ok = verifyOrFalse(key, buf.subarray(0, dot2), buf.subarray(dot2, dot2 + n))
      buf.fill(0, 0, dot2 + n)
    } else buf.fill(0, dot2, dot2 + n)
  }
  if (!ok) throw fail('signature', 'unable to verify token signature')
}

function verifyOrFalse(key: JwsVerifyKey, data: Buffer, signature: Buffer): boolean {
  try {
    return cryptoVerify(key.alg.hash, data, key.input, signature)
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

const MAX_QUOTED = 100
const MAX_LISTED = 5

/** A value from a token, JSON-quoted and truncated, safe to put in a message. */
export function quote(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value)
}

/** A list in Go's `%q` form (`["a" "b"]`), truncated, as go-spiffe prints audiences. */
export function formatList(values: readonly string[]): string {
  const shown = values.slice(0, MAX_LISTED).map(quote)
  if (values.length > MAX_LISTED) shown.push(`…(${values.length - MAX_LISTED} more)`)
  return `[${shown.join(' ')}]`
}
