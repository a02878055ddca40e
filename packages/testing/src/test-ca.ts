import 'reflect-metadata'
import { type KeyObject, randomBytes, X509Certificate } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints } from '@peculiar/asn1-x509'
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  Extension,
  type JsonGeneralName,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
} from '@peculiar/x509'
import {
  BundleSet,
  createJwtAuthority,
  JwtBundle,
  marshalBundleMap,
  SpiffeBundle,
  X509Bundle,
} from '@svidkit/core/bundle'
import { OptionsError } from '@svidkit/core/errors'
import { SpiffeId, TrustDomain } from '@svidkit/core/spiffe-id'
import { marshalX509Svid, type X509Svid } from '@svidkit/core/x509-svid'
import { CompactSign } from 'jose'
import {
  generateTestKeyPair,
  importTestKeyPair,
  signingAlgorithm,
  type TestKeyPair,
  type TestKeyType,
} from './key-type.js'
import { KeyUsageFlags } from './key-usage-flags.js'

/**
 * Options for {@link TestCA.create}.
 *
 * @example
 * ```ts
 * const options: TestCAOptions = { trustDomain: 'example.org', keyType: 'ec-p384', ttlSeconds: 3600, permittedUriDomains: ['example.org'] }
 * const ca = await TestCA.create(options)
 * ```
 */
export interface TestCAOptions {
  /** The trust domain, e.g. `example.org`. */
  trustDomain: TrustDomain | string
  /** CA key type. Default `ec-p256`. */
  keyType?: TestKeyType
  /** CA validity in seconds. Default one day. */
  ttlSeconds?: number
  /** Explicit validity window, overriding `ttlSeconds`. */
  notBefore?: Date
  notAfter?: Date
  /** BasicConstraints pathLenConstraint. */
  pathLength?: number
  /** URI name constraints (hosts), e.g. `['example.org']`. */
  permittedUriDomains?: string[]
  /** JWT signing key type. Default `ec-p256` (ES256). */
  jwtKeyType?: TestKeyType
  /**
   * The CA's distinguished name, in RFC 4514 form (`O=Example` without a CN, UTF-8 values, …). Default
   * `O=svidkit test CA, CN=<trust domain>`.
   */
  subject?: string
  /** Deliberately broken CA certificates, for negative tests. */
  broken?: { notCA?: boolean; noKeyCertSign?: boolean; criticalExtension?: string }
}

/**
 * Options for {@link TestCA.issueX509Svid}.
 *
 * @example
 * ```ts
 * const options: IssueX509SvidOptions = { id: '/ns/prod/sa/web', ttlSeconds: 60, hint: 'internal', dnsNames: ['web.prod.svc'] }
 * const svid = await ca.issueX509Svid(options)
 * const noUri = await ca.issueX509Svid({ id: '/web', broken: { uris: [] } }) // a negative-test SVID without a URI SAN
 * ```
 */
export interface IssueX509SvidOptions {
  /** The SPIFFE ID, or a path in the CA's trust domain (`/ns/prod/sa/web`). */
  id: SpiffeId | string
  /** Leaf key type. Default `ec-p256`. */
  keyType?: TestKeyType
  /** Validity in seconds from now. Default one hour. */
  ttlSeconds?: number
  notBefore?: Date
  notAfter?: Date
  /** Extra DNS SANs. */
  dnsNames?: string[]
  /**
   * The leaf's distinguished name, in RFC 4514 form. Default `O=svidkit test`. `''` issues an empty
   * subject, as Istio does, with the SAN extension marked critical (RFC 5280 §4.2.1.6).
   */
  subject?: string
  /** Workload API hint. */
  hint?: string
  /**
   * Deliberately broken variants for negative tests: replace the URI SANs (none, several, invalid),
   * set CA=true, change key usage, drop extensions, add an unknown critical extension, or sign with
   * another key (a forged certificate).
   */
  broken?: {
    uris?: string[]
    isCA?: boolean
    keyUsage?: KeyUsageFlags | null
    keyUsageCritical?: boolean
    extKeyUsage?: string[] | null
    criticalExtension?: string
    signWith?: KeyObject | TestKeyPair
  }
}

/**
 * An X.509-SVID issued by a {@link TestCA}, with its PEM forms.
 *
 * @example
 * ```ts
 * const svid: TestX509Svid = await ca.issueX509Svid({ id: '/web' })
 * const tlsOptions = { cert: svid.certificatesPem, key: svid.privateKeyPem, ca: ca.x509Bundle().toPem() }
 * svid.certificatesDer[0] // the leaf as DER
 * ```
 */
export interface TestX509Svid extends X509Svid {
  /** The SVID chain (leaf + intermediates) as PEM. */
  readonly certificatesPem: string
  /** The private key as PKCS#8 PEM. */
  readonly privateKeyPem: string
  /** The chain as DER (leaf first). */
  readonly certificatesDer: readonly Buffer[]
}

/** Options for {@link TestCA.issueWebCertificate}. */
export interface IssueWebCertificateOptions {
  /** DNS SANs, e.g. `['localhost']`. */
  dnsNames?: string[]
  /** IP address SANs, e.g. `['127.0.0.1']`. */
  ipAddresses?: string[]
  /** Leaf key type. Default `ec-p256`. */
  keyType?: TestKeyType
  /** Validity in seconds from now. Default one hour. */
  ttlSeconds?: number
}

/** A plain Web PKI server certificate (no SPIFFE ID) issued by a {@link TestCA}. */
export interface TestWebCertificate {
  /** The chain, leaf first. */
  readonly certificates: readonly X509Certificate[]
  /** The chain as PEM, leaf first (a TLS server's `cert`). */
  readonly certificatesPem: string
  /** The private key. */
  readonly privateKey: KeyObject
  /** The private key as PKCS#8 PEM (a TLS server's `key`). */
  readonly privateKeyPem: string
}

/**
 * Options for {@link TestCA.mintJwtSvid}.
 *
 * @example
 * ```ts
 * const options: MintJwtSvidOptions = { subject: '/web', audience: ['orders', 'billing'], ttlSeconds: -60, claims: { scope: 'orders:read' } }
 * const expired = await ca.mintJwtSvid(options) // `exp` is a minute before `iat`
 * ```
 */
export interface MintJwtSvidOptions {
  /** `sub`: the SPIFFE ID, or a path in the CA's trust domain. */
  subject: SpiffeId | string
  /** `aud`: one audience or several. */
  audience: string | string[]
  /** Lifetime in seconds from `issuedAt`. Default 300. Use a negative value for an expired token. */
  ttlSeconds?: number
  /** `iat`. Default now. */
  issuedAt?: Date
  /** `nbf`, when set. */
  notBefore?: Date
  /** Signing algorithm. Default from the JWT key: ES256 / ES384 / ES512 / RS256 / EdDSA. */
  alg?: string
  /** Extra claims (e.g. `scope`), merged over the standard ones; `undefined` values remove a claim. */
  claims?: Record<string, unknown>
  /** Extra or replacement protected-header parameters (`typ`, `crit`, `kid`); `undefined` removes one. */
  header?: Record<string, unknown>
  /** Sign with another key than the CA's current JWT key (kid still names the current key unless overridden). */
  signWith?: KeyObject
}

/**
 * Everything needed to restore a root {@link TestCA} in another process (`svidkit agent --ca-dir`
 * keeps its CA across restarts this way): the trust domain, the CA certificate and the private keys, as
 * PEM. It holds private keys: store it with owner-only permissions, and only for tests.
 *
 * @example
 * ```ts
 * writeFileSync('ca.json', JSON.stringify(ca.toState()), { mode: 0o600 })
 * const same = await TestCA.fromState(JSON.parse(readFileSync('ca.json', 'utf8')))
 * ```
 */
export interface TestCAState {
  readonly trustDomain: string
  readonly subject: string
  readonly keyType: TestKeyType
  readonly certificatePem: string
  readonly privateKeyPem: string
  readonly jwtKeyType: TestKeyType
  readonly jwtKeyId: string
  readonly jwtPrivateKeyPem: string
}

const KEY_TYPES: readonly TestKeyType[] = ['ec-p256', 'ec-p384', 'ec-p521', 'rsa-2048', 'rsa-3072', 'ed25519']

const DAY = 86_400

function randomSerial(): string {
  const b = randomBytes(16)
  b[0] = b[0]! & 0x7f
  return b.toString('hex')
}

function defaultJwtAlg(key: KeyObject): string {
  const details = key.asymmetricKeyDetails
  switch (key.asymmetricKeyType) {
    case 'ec':
      return details?.namedCurve === 'secp384r1'
        ? 'ES384'
        : details?.namedCurve === 'secp521r1'
          ? 'ES512'
          : 'ES256'
    case 'rsa':
      return 'RS256'
    default:
      return 'EdDSA'
  }
}

/**
 * A test certificate authority for one trust domain: it issues X.509-SVIDs (any ID, TTL, key type,
 * and deliberately broken variants), intermediate CAs, and JWT-SVIDs, and exports its bundle in every
 * format svidkit reads (PEM, DER, JWKS, SPIFFE bundle, bundle map). Never use it in production.
 *
 * @example
 * ```ts
 * import { TestCA } from '@svidkit/testing'
 * const ca = await TestCA.create({ trustDomain: 'example.org' })
 * const svid = await ca.issueX509Svid({ id: '/ns/prod/sa/web' })
 * const token = await ca.mintJwtSvid({ subject: '/ns/prod/sa/web', audience: 'orders' })
 * const bundles = ca.bundleSet()
 * ```
 */
export class TestCA {
  readonly trustDomain: TrustDomain
  /** This CA's certificate. */
  readonly certificate: X509Certificate
  /** This CA's key pair. */
  readonly keys: TestKeyPair
  /** Certificates from this CA up to (excluding) the root; empty for a root CA. */
  readonly intermediates: readonly X509Certificate[]
  /** The root CA of this chain (itself for a root). */
  readonly root: TestCA
  #jwtKey: { kid: string; keys: TestKeyPair }
  #oldJwtKeys: { kid: string; keys: TestKeyPair }[] = []
  readonly #jwtKeyType: TestKeyType
  readonly #subject: string

  private constructor(
    trustDomain: TrustDomain,
    certificate: X509Certificate,
    subject: string,
    keys: TestKeyPair,
    intermediates: X509Certificate[],
    root: TestCA | undefined,
    jwtKey: { kid: string; keys: TestKeyPair },
    jwtKeyType: TestKeyType,
  ) {
    this.trustDomain = trustDomain
    this.certificate = certificate
    this.#subject = subject
    this.keys = keys
    this.intermediates = intermediates
    this.root = root ?? this
    this.#jwtKey = jwtKey
    this.#jwtKeyType = jwtKeyType
  }

  /** Creates a self-signed root CA for a trust domain. */
  static async create(options: TestCAOptions): Promise<TestCA> {
    const td =
      typeof options.trustDomain === 'string' ? TrustDomain.parse(options.trustDomain) : options.trustDomain
    const keys = await generateTestKeyPair(options.keyType ?? 'ec-p256')
    const { cert, subject } = await TestCA.#caCertificate(td, keys, keys, undefined, options)
    const jwtKeyType = options.jwtKeyType ?? 'ec-p256'
    const jwtKey = { kid: randomBytes(8).toString('hex'), keys: await generateTestKeyPair(jwtKeyType) }
    return new TestCA(td, cert, subject, keys, [], undefined, jwtKey, jwtKeyType)
  }

  static async #caCertificate(
    td: TrustDomain,
    keys: TestKeyPair,
    signer: TestKeyPair,
    issuer: string | undefined,
    options: Omit<TestCAOptions, 'trustDomain'>,
  ): Promise<{ cert: X509Certificate; subject: string }> {
    if (options.subject === '') {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'a CA subject must not be empty (RFC 5280 §4.1.2.6)')
    }
    const now = Date.now()
    const notBefore = options.notBefore ?? new Date(now - 60_000)
    const notAfter = options.notAfter ?? new Date(now + (options.ttlSeconds ?? DAY) * 1000)
    const broken = options.broken ?? {}
    const ku = broken.noKeyCertSign
      ? KeyUsageFlags.cRLSign
      : KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign
    const extensions: Extension[] = [
      new BasicConstraintsExtension(!broken.notCA, options.pathLength, true),
      new KeyUsagesExtension(ku, true),
      new SubjectAlternativeNameExtension([{ type: 'url', value: td.idString() }], false),
      await SubjectKeyIdentifierExtension.create(keys.cryptoKeys.publicKey),
    ]
    if (issuer) extensions.push(await AuthorityKeyIdentifierExtension.create(signer.cryptoKeys.publicKey))
    if (options.permittedUriDomains) {
      const nc = new NameConstraints({
        permittedSubtrees: new GeneralSubtrees(
          options.permittedUriDomains.map(
            (d) => new GeneralSubtree({ base: new GeneralName({ uniformResourceIdentifier: d }) }),
          ),
        ),
      })
      extensions.push(new Extension('2.5.29.30', true, AsnConvert.serialize(nc)))
    }
    if (broken.criticalExtension)
      extensions.push(new Extension(broken.criticalExtension, true, new Uint8Array([5, 0])))
    const subject =
      options.subject ??
      `O=svidkit test CA, CN=${td.name}${issuer ? ` intermediate ${randomBytes(3).toString('hex')}` : ''}`
    const cert = await X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject,
      issuer: issuer ?? subject,
      notBefore,
      notAfter,
      signingAlgorithm: signingAlgorithm(signer.type),
      publicKey: keys.cryptoKeys.publicKey,
      signingKey: signer.cryptoKeys.privateKey,
      extensions,
    })
    return { cert: new X509Certificate(Buffer.from(cert.rawData)), subject }
  }

  /**
   * This root CA's state (certificate and private keys as PEM), to restore it with {@link fromState}.
   * Only root CAs whose JWT keys were never rotated have one.
   */
  toState(): TestCAState {
    if (this !== this.root || this.#oldJwtKeys.length > 0) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'toState(): only a root CA with one JWT key has a state')
    }
    const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }).toString()
    return {
      trustDomain: this.trustDomain.name,
      subject: this.#subject,
      keyType: this.keys.type,
      certificatePem: this.certificate.toString(),
      privateKeyPem: pem(this.keys.privateKey),
      jwtKeyType: this.#jwtKeyType,
      jwtKeyId: this.#jwtKey.kid,
      jwtPrivateKeyPem: pem(this.#jwtKey.keys.privateKey),
    }
  }

  /** Restores a root CA saved with {@link toState}: same certificate, keys and JWT key ID. */
  static async fromState(state: TestCAState): Promise<TestCA> {
    const bad = (why: string): never => {
      throw new OptionsError('ERR_OPTIONS_INVALID', `TestCA.fromState: ${why}`)
    }
    if (typeof state !== 'object' || state === null) bad('state must be an object')
    for (const k of [
      'trustDomain',
      'subject',
      'certificatePem',
      'privateKeyPem',
      'jwtKeyId',
      'jwtPrivateKeyPem',
    ] as const) {
      if (typeof state[k] !== 'string' || state[k] === '') bad(`${k} must be a non-empty string`)
    }
    if (!KEY_TYPES.includes(state.keyType) || !KEY_TYPES.includes(state.jwtKeyType)) bad('unknown key type')
    const td = TrustDomain.parse(state.trustDomain)
    let certificate: X509Certificate
    let keys: TestKeyPair
    let jwtKeys: TestKeyPair
    try {
      certificate = new X509Certificate(state.certificatePem)
      keys = await importTestKeyPair(state.privateKeyPem, state.keyType)
      jwtKeys = await importTestKeyPair(state.jwtPrivateKeyPem, state.jwtKeyType)
    } catch (cause) {
      throw new OptionsError('ERR_OPTIONS_INVALID', 'TestCA.fromState: unreadable certificate or key', {
        cause,
      })
    }
    if (!certificate.checkPrivateKey(keys.privateKey)) bad('the private key does not match the certificate')
    return new TestCA(
      td,
      certificate,
      state.subject,
      keys,
      [],
      undefined,
      { kid: state.jwtKeyId, keys: jwtKeys },
      state.jwtKeyType,
    )
  }

  /** Creates an intermediate CA signed by this CA, in the same trust domain (or another, to build cross-signed negatives). */
  async createIntermediate(
    options: Omit<TestCAOptions, 'trustDomain'> & { trustDomain?: TrustDomain | string } = {},
  ): Promise<TestCA> {
    const td =
      options.trustDomain === undefined ? this.trustDomain : TrustDomain.parse(String(options.trustDomain))
    const keys = await generateTestKeyPair(options.keyType ?? 'ec-p256')
    const { cert, subject } = await TestCA.#caCertificate(td, keys, this.keys, this.#subject, options)
    const chain = this === this.root ? [] : [this.certificate, ...this.intermediates]
    return new TestCA(td, cert, subject, keys, [...chain], this.root, this.#jwtKey, this.#jwtKeyType)
  }

  /** Issues an X.509-SVID. */
  async issueX509Svid(options: IssueX509SvidOptions): Promise<TestX509Svid> {
    const id = this.#id(options.id)
    const keys = await generateTestKeyPair(options.keyType ?? 'ec-p256')
    const now = Date.now()
    const notBefore = options.notBefore ?? new Date(now - 60_000)
    const notAfter = options.notAfter ?? new Date(now + (options.ttlSeconds ?? 3600) * 1000)
    const broken = options.broken ?? {}
    const uris = broken.uris ?? [id.toString()]
    const names: JsonGeneralName[] = [
      ...uris.map((value) => ({ type: 'url' as const, value })),
      ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ]
    const extensions: Extension[] = [new BasicConstraintsExtension(broken.isCA === true, undefined, true)]
    const ku =
      broken.keyUsage === undefined
        ? KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment | KeyUsageFlags.keyAgreement
        : broken.keyUsage
    if (ku !== null) extensions.push(new KeyUsagesExtension(ku, broken.keyUsageCritical ?? true))
    const eku =
      broken.extKeyUsage === undefined
        ? [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]
        : broken.extKeyUsage
    if (eku !== null) extensions.push(new ExtendedKeyUsageExtension(eku, false))
    const subject = options.subject ?? 'O=svidkit test'
    if (names.length > 0) extensions.push(new SubjectAlternativeNameExtension(names, subject === ''))
    extensions.push(await SubjectKeyIdentifierExtension.create(keys.cryptoKeys.publicKey))
    extensions.push(await AuthorityKeyIdentifierExtension.create(this.keys.cryptoKeys.publicKey))
    if (broken.criticalExtension)
      extensions.push(new Extension(broken.criticalExtension, true, new Uint8Array([5, 0])))
    let signer = this.keys
    if (broken.signWith) {
      signer =
        'cryptoKeys' in broken.signWith
          ? broken.signWith
          : await fromKeyObject(broken.signWith, this.keys.type)
    }
    const cert = await X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject,
      issuer: this.#subject,
      notBefore,
      notAfter,
      signingAlgorithm: signingAlgorithm(signer.type),
      publicKey: keys.cryptoKeys.publicKey,
      signingKey: signer.cryptoKeys.privateKey,
      extensions,
    })
    const leaf = new X509Certificate(Buffer.from(cert.rawData))
    const chain = [leaf, ...(this === this.root ? [] : [this.certificate, ...this.intermediates])]
    const svid: X509Svid = {
      id,
      certificates: chain,
      privateKey: keys.privateKey,
      hint: options.hint,
      expiresAt: notAfter,
    }
    const pem = marshalX509Svid(svid)
    return Object.freeze({
      ...svid,
      certificatesPem: pem.certificates,
      privateKeyPem: pem.privateKey,
      certificatesDer: chain.map((c) => c.raw),
    })
  }

  /**
   * Issues a plain Web PKI server certificate (DNS / IP SANs, serverAuth, no URI SAN), for
   * `https_web` tests: trust this CA's `certificate` as the client's `ca`.
   */
  async issueWebCertificate(options: IssueWebCertificateOptions): Promise<TestWebCertificate> {
    const names: JsonGeneralName[] = [
      ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ]
    if (names.length === 0)
      throw new OptionsError('ERR_OPTIONS_INVALID', 'issueWebCertificate needs dnsNames or ipAddresses')
    const keys = await generateTestKeyPair(options.keyType ?? 'ec-p256')
    const now = Date.now()
    const cert = await X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${names[0]!.value}`,
      issuer: this.#subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + (options.ttlSeconds ?? 3600) * 1000),
      signingAlgorithm: signingAlgorithm(this.keys.type),
      publicKey: keys.cryptoKeys.publicKey,
      signingKey: this.keys.cryptoKeys.privateKey,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth], false),
        new SubjectAlternativeNameExtension(names, false),
        await SubjectKeyIdentifierExtension.create(keys.cryptoKeys.publicKey),
        await AuthorityKeyIdentifierExtension.create(this.keys.cryptoKeys.publicKey),
      ],
    })
    const leaf = new X509Certificate(Buffer.from(cert.rawData))
    const chain = [leaf, ...(this === this.root ? [] : [this.certificate, ...this.intermediates])]
    return Object.freeze({
      certificates: Object.freeze(chain),
      certificatesPem: chain.map((c) => c.toString()).join(''),
      privateKey: keys.privateKey,
      privateKeyPem: keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    })
  }

  #id(id: SpiffeId | string): SpiffeId {
    if (typeof id !== 'string') return id
    return id.startsWith('/') ? SpiffeId.fromPath(this.trustDomain, id) : SpiffeId.parse(id)
  }

  /** The current JWT signing key ID. */
  get jwtKeyId(): string {
    return this.#jwtKey.kid
  }

  /** The current JWT signing private key. */
  get jwtPrivateKey(): KeyObject {
    return this.#jwtKey.keys.privateKey
  }

  /** Starts signing JWT-SVIDs with a new key; the old keys stay in the JWT bundle unless `dropOld`. */
  async rotateJwtKey(options: { dropOld?: boolean; keyType?: TestKeyType } = {}): Promise<string> {
    if (!options.dropOld) this.#oldJwtKeys.push(this.#jwtKey)
    else this.#oldJwtKeys = []
    this.#jwtKey = {
      kid: randomBytes(8).toString('hex'),
      keys: await generateTestKeyPair(options.keyType ?? this.#jwtKeyType),
    }
    return this.#jwtKey.kid
  }

  /** Mints a JWT-SVID (compact JWS) signed with the CA's current JWT key. */
  async mintJwtSvid(options: MintJwtSvidOptions): Promise<string> {
    const sub = this.#id(options.subject).toString()
    const key = options.signWith ?? this.#jwtKey.keys.privateKey
    const iat = Math.floor((options.issuedAt ?? new Date()).getTime() / 1000)
    const payload: Record<string, unknown> = {
      sub,
      aud: options.audience,
      iat,
      exp: iat + (options.ttlSeconds ?? 300),
    }
    if (options.notBefore) payload.nbf = Math.floor(options.notBefore.getTime() / 1000)
    for (const [k, v] of Object.entries(options.claims ?? {})) {
      if (v === undefined) delete payload[k]
      else payload[k] = v
    }
    const header: Record<string, unknown> = {
      alg: options.alg ?? defaultJwtAlg(key),
      kid: this.#jwtKey.kid,
      typ: 'JWT',
    }
    for (const [k, v] of Object.entries(options.header ?? {})) {
      if (v === undefined) delete header[k]
      else header[k] = v
    }
    const jws = new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    // biome-ignore lint/suspicious/noExplicitAny: test tokens may carry any header, deliberately.
    jws.setProtectedHeader(header as any)
    return jws.sign(key)
  }

  /** The root's X.509 bundle (the trust anchor for this CA's SVIDs). */
  x509Bundle(): X509Bundle {
    return new X509Bundle(this.trustDomain, [this.root.certificate])
  }

  /** The JWT bundle: the current JWT key and any rotated-out ones still kept. */
  jwtBundle(): JwtBundle {
    const all = [this.#jwtKey, ...this.#oldJwtKeys]
    return new JwtBundle(
      this.trustDomain,
      all.map((k) => createJwtAuthority(k.kid, k.keys.publicKey.export({ format: 'jwk' }))),
    )
  }

  /** The SPIFFE bundle (X.509 + JWT authorities). */
  spiffeBundle(options: { refreshHintSeconds?: number; sequenceNumber?: bigint } = {}): SpiffeBundle {
    return SpiffeBundle.from({ x509: this.x509Bundle(), jwt: this.jwtBundle(), ...options })
  }

  /** A bundle set holding this CA's SPIFFE bundle. */
  bundleSet(): BundleSet {
    return new BundleSet([this.spiffeBundle()])
  }
}

async function fromKeyObject(key: KeyObject, type: TestKeyType): Promise<TestKeyPair> {
  const { webcrypto } = await import('node:crypto')
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' })
  const algo = type.startsWith('ec')
    ? { name: 'ECDSA', namedCurve: type === 'ec-p384' ? 'P-384' : type === 'ec-p521' ? 'P-521' : 'P-256' }
    : type === 'ed25519'
      ? { name: 'Ed25519' }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, algo, true, ['sign'])
  return {
    type,
    cryptoKeys: { privateKey, publicKey: privateKey },
    privateKey: key,
    publicKey: key,
  }
}

/**
 * Writes a SPIFFE bundle map for several test CAs (`{"trust_domains": {…}}`).
 *
 * @example
 * ```ts
 * writeFileSync('bundles.json', bundleMapJson([caA, caB]))
 * ```
 */
export function bundleMapJson(cas: readonly TestCA[]): string {
  return marshalBundleMap(new BundleSet(cas.map((ca) => ca.spiffeBundle())))
}
