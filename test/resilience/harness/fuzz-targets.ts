// Point 3: every parser svidkit exposes, with a fast-check arbitrary that mixes random text with the
// parser's own grammar (markers, separators, quotes, escapes, real certificates and tokens, long
// repetitions of them). A run passes when the parser returns, or throws a SvidkitError whose code is
// in core's status table and whose message reads `<domain>: <reason>` — never anything else — within
// the per-input time budget.
import type { KeyObject } from 'node:crypto'
import {
  type BundleSet,
  JwtBundle,
  parseBundleDocument,
  parseBundleMap,
  X509Bundle,
} from '@svidkit/core/bundle'
import { isSvidkitError, statusTable } from '@svidkit/core/errors'
import {
  decodeForwardedCert,
  type ForwardedCertFormat,
  forwardedCertPresets,
} from '@svidkit/core/forwarded-cert'
import { createJwtSvidVerifier, parseJwtSvidInsecure, verifyJwtSvid } from '@svidkit/core/jwt-svid'
import { loadPolicy, normalizeHttpPath } from '@svidkit/core/policy'
import { SpiffeId, TrustDomain } from '@svidkit/core/spiffe-id'
import { parseX509Svid, verifyX509Svid } from '@svidkit/core/x509-svid'
import { createXfccExtractor, parseXfcc, selectXfccCaller } from '@svidkit/core/xfcc'
import { TestCA } from '@svidkit/testing'
import fc from 'fast-check'

/** Material the arbitraries splice in: a real chain, key, bundle and token. */
export interface FuzzMaterial {
  readonly bundles: BundleSet
  readonly certPem: string
  readonly certDer: Buffer
  readonly chainDer: Buffer
  readonly keyPem: string
  readonly key: KeyObject
  readonly token: string
  readonly bundleJson: string
}

export async function fuzzMaterial(): Promise<FuzzMaterial> {
  const ca = await TestCA.create({ trustDomain: 'example.org' })
  const inter = await ca.createIntermediate()
  const svid = await inter.issueX509Svid({ id: '/web' })
  return {
    bundles: ca.bundleSet(),
    certPem: svid.certificatesPem,
    certDer: svid.certificatesDer[0]!,
    chainDer: Buffer.concat(svid.certificatesDer),
    keyPem: svid.privateKeyPem,
    key: svid.privateKey,
    token: await inter.mintJwtSvid({ subject: '/web', audience: 'api', ttlSeconds: 3600 }),
    bundleJson: ca.spiffeBundle().toJson(),
  }
}

/** One parser under fuzz. */
export interface FuzzTarget {
  /** A short id (`chain`, `policy`, …), to pick targets. */
  readonly id: FuzzTargetId
  readonly name: string
  readonly arbitrary: fc.Arbitrary<unknown>
  /** Calls the parser (or several entry points of it) on one input. */
  run(input: unknown): void
  /**
   * Time allowed per KiB of input on top of 100 ms (default 1 ms: 1 µs a byte). The YAML parser is
   * linear but slow on text full of errors (10–25 µs a byte), so the policy target gets 50.
   */
  readonly msPerKiB?: number
}

/** The fuzz targets, one per parser. */
export type FuzzTargetId =
  | 'spiffe-id'
  | 'bundle'
  | 'chain'
  | 'jwt-svid'
  | 'xfcc'
  | 'forwarded-cert'
  | 'policy'
  | 'http-path'

/** How often an arbitrary draws a long input (one in `longEvery`), and how long it may be. */
export interface FuzzShape {
  readonly longEvery: number
}

/** Runs `fn`; a SvidkitError with a known code and a `<domain>: ` message is fine, anything else is rethrown. */
export function typed(fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    if (!isSvidkitError(err)) throw err
    const entry = (statusTable as Record<string, { domain: string } | undefined>)[err.code]
    if (entry === undefined) throw new Error(`unknown error code ${err.code}`)
    if (!err.message.startsWith(`${entry.domain}: `))
      throw new Error(`message without its domain: ${err.message}`)
  }
}

/**
 * Text made of `fragments` and random characters (up to `maxPieces` pieces); one in `shape.longEvery`
 * is long: a few pieces repeated up to `longMax` characters (default 256 KiB).
 */
function textFrom(
  shape: FuzzShape,
  fragments: readonly string[],
  maxPieces = 64,
  longMax = 256 * 1024,
): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...fragments) },
    { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  )
  const short = fc.array(piece, { maxLength: maxPieces }).map((p) => p.join(''))
  // A few long inputs, to let a quadratic path show in the time budget.
  const long = fc
    .tuple(fc.array(piece, { minLength: 1, maxLength: 6 }), fc.integer({ min: 100, max: 4000 }))
    .map(([p, n]) => {
      const unit = p.join('')
      return unit.repeat(Math.min(n, Math.floor(longMax / Math.max(1, unit.length))))
    })
  return fc.oneof({ weight: shape.longEvery - 1, arbitrary: short }, { weight: 1, arbitrary: long })
}

/** Bytes: mutations (flips, cuts, splices) of `seed`, or random. */
function bytesFrom(seed: Buffer): fc.Arbitrary<Uint8Array> {
  const mutated = fc
    .tuple(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(),
      fc.boolean(),
    )
    .map(([flips, cut, doCut]) => {
      const b = Buffer.from(seed)
      for (const [at, v] of flips) b[at % b.length] = v
      return doCut ? b.subarray(0, cut % (b.length + 1)) : b
    })
  return fc.oneof(
    mutated,
    fc.uint8Array({ maxLength: 512 }),
    mutated.map((b) => Buffer.concat([b, b, b])),
  )
}

const base64url = (s: string) => Buffer.from(s).toString('base64url')

export function fuzzTargets(m: FuzzMaterial, shape: FuzzShape): readonly FuzzTarget[] {
  const tokenParts = m.token.split('.')
  const jwtVerifier = createJwtSvidVerifier({ bundles: m.bundles, audience: 'api', clockSkewSeconds: 0 })
  const xfccExtractor = createXfccExtractor({ bundles: m.bundles, maxLength: 1 << 20 })
  const certB64 = m.certDer.toString('base64')
  const pemBody = m.certPem.split('\n').slice(1, 4)
  const formats = Object.keys(forwardedCertPresets) as ForwardedCertFormat[]

  const idFragments = [
    'spiffe://',
    'SPIFFE://',
    'example.org',
    'Example.ORG',
    '/',
    '//',
    '.',
    '..',
    '%2F',
    '%',
    '-',
    '_',
    'a',
    'é',
    ':',
    '@',
    '?',
    '#',
    ' ',
    '\u0000',
  ]
  return [
    {
      id: 'spiffe-id',
      name: 'SPIFFE ID (SpiffeId.parse, TrustDomain.parse)',
      arbitrary: textFrom(shape, idFragments),
      run(input) {
        const s = input as string
        typed(() => SpiffeId.parse(s))
        typed(() => SpiffeId.parse(s, { normalize: true }))
        typed(() => TrustDomain.parse(s))
      },
    },
    {
      id: 'bundle',
      name: 'bundle document and bundle map (parseBundleDocument, parseBundleMap, JwtBundle.fromJwks)',
      arbitrary: fc.oneof(
        textFrom(shape, [
          '{',
          '}',
          '[',
          ']',
          '"keys"',
          '"trust_domains"',
          '"example.org"',
          ':',
          ',',
          '"use"',
          '"x509-svid"',
          '"jwt-svid"',
          '"kty"',
          '"EC"',
          '"RSA"',
          '"x5c"',
          `"${certB64}"`,
          '"kid"',
          '"spiffe_sequence"',
          '18446744073709551616',
          '-1',
          '1e999',
          'null',
          'true',
          '"\\u0000"',
          '-----BEGIN CERTIFICATE-----',
          '\n',
        ]),
        fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
        fc
          .tuple(
            fc.boolean(),
            fc.record(
              {
                keys: fc.array(
                  fc.record(
                    {
                      kty: fc.constantFrom('EC', 'RSA', 'OKP', 'oct', 'x'),
                      use: fc.constantFrom('x509-svid', 'jwt-svid', 'sig', ''),
                      x5c: fc.array(fc.oneof(fc.constant(certB64), fc.base64String()), { maxLength: 2 }),
                      kid: fc.string(),
                      crv: fc.constantFrom('P-256', 'P-384', 'Ed25519', 'x'),
                      x: fc.base64String(),
                      y: fc.base64String(),
                    },
                    { requiredKeys: [] },
                  ),
                  { maxLength: 4 },
                ),
                spiffe_sequence: fc.oneof(fc.integer(), fc.string()),
                spiffe_refresh_hint: fc.oneof(fc.integer(), fc.double()),
              },
              { requiredKeys: [] },
            ),
          )
          .map(([inMap, b]) => JSON.stringify(inMap ? { trust_domains: { 'example.org': b } } : b)),
        fc.constant(m.bundleJson),
        fc.integer({ min: 1, max: 5000 }).map((n) => '['.repeat(n)),
      ),
      run(input) {
        const s = input as string
        // parseBundleDocument reads SPIFFE bundles (SpiffeBundle.parse), bundle maps and PEM.
        typed(() => parseBundleDocument(s, { trustDomain: 'example.org' }))
        typed(() => parseBundleMap(s))
        typed(() => JwtBundle.fromJwks('example.org', s))
      },
    },
    {
      id: 'chain',
      name: 'PEM and DER chains (verifyX509Svid, parseX509Svid, X509Bundle.fromPem/fromDer)',
      arbitrary: fc.oneof(
        textFrom(
          shape,
          [
            '-----BEGIN CERTIFICATE-----',
            '-----END CERTIFICATE-----',
            '-----BEGIN PRIVATE KEY-----',
            '-----END PRIVATE KEY-----',
            '-----BEGIN ',
            '-----END ',
            '-----',
            ...pemBody,
            '\n',
            '\r\n',
            '=',
            'A',
            m.certPem,
          ],
          16,
        ),
        bytesFrom(m.chainDer),
      ),
      run(input) {
        const chain = input as string | Uint8Array
        typed(() => verifyX509Svid(chain, m.bundles))
        typed(() => parseX509Svid(chain, typeof chain === 'string' ? undefined : m.key))
        if (typeof chain === 'string') typed(() => X509Bundle.fromPem('example.org', chain))
        else typed(() => X509Bundle.fromDer('example.org', chain))
      },
    },
    {
      id: 'jwt-svid',
      name: 'JWT-SVID (verifyJwtSvid, createJwtSvidVerifier, parseJwtSvidInsecure)',
      arbitrary: fc.oneof(
        textFrom(shape, [
          '.',
          'eyJ',
          ...tokenParts,
          base64url('{"alg":"none"}'),
          base64url('{"alg":"ES256","kid":"x"}'),
          base64url('{"sub":"spiffe://example.org/web","aud":"api","exp":1}'),
          '=',
          '+',
          '/',
        ]),
        fc
          .tuple(fc.nat(), fc.string({ maxLength: 3 }))
          .map(
            ([at, s]) =>
              m.token.slice(0, at % m.token.length) + s + m.token.slice((at % m.token.length) + s.length),
          ),
      ),
      run(input) {
        const t = input as string
        typed(() => verifyJwtSvid(t, m.bundles, { audience: 'api' }))
        typed(() => jwtVerifier.verify(t))
        typed(() => parseJwtSvidInsecure(t))
      },
    },
    {
      id: 'xfcc',
      name: 'XFCC (parseXfcc, selectXfccCaller, createXfccExtractor)',
      arbitrary: fc.oneof(
        textFrom(shape, [
          'By=',
          'URI=',
          'Hash=',
          'Cert=',
          'Chain=',
          'Subject=',
          'DNS=',
          'spiffe://example.org/web',
          '"',
          '\\"',
          '\\\\',
          '\\',
          ';',
          ',',
          '=',
          ' ',
          '\t',
          'é',
          '\u0001',
          encodeURIComponent(m.certPem),
        ]),
        fc.array(textFrom(shape, [';', ',', '"', 'URI=spiffe://example.org/web', 'By=x', '\\"']), {
          maxLength: 4,
        }),
      ),
      run(input) {
        const header = input as string | string[]
        typed(() => {
          const elements = parseXfcc(header, { maxLength: 1 << 20 })
          if (elements.length > 0) typed(() => selectXfccCaller(elements))
        })
        typed(() => xfccExtractor.extract({ header, peerAddress: '127.0.0.1' }))
      },
    },
    {
      id: 'forwarded-cert',
      name: `forwarded-cert encodings (decodeForwardedCert: ${formats.join(', ')})`,
      arbitrary: fc.tuple(
        fc.constantFrom(...formats),
        textFrom(shape, [
          certB64,
          `:${certB64}:`,
          encodeURIComponent(m.certPem),
          m.certPem,
          ':',
          ',',
          ';',
          '%',
          '%2',
          '%0A',
          '+',
          '/',
          '=',
          ' ',
          'a',
        ]),
        fc.option(textFrom(shape, [certB64, `:${certB64}:`, ',', '%', ':']), { nil: undefined }),
      ),
      run(input) {
        const [format, value, chain] = input as [ForwardedCertFormat, string, string | undefined]
        typed(() => decodeForwardedCert(value, format, { chain, maxLength: 1 << 20 }))
        typed(() => decodeForwardedCert([value, value], format))
      },
    },
    {
      id: 'policy',
      name: 'policy file (loadPolicy, YAML and JSON)',
      arbitrary: fc.oneof(
        textFrom(
          shape,
          [
            'version: 1\n',
            'defaultAction: deny\n',
            'rules:\n',
            '  - id: r\n',
            '    action: ALLOW\n',
            '    from:\n',
            '      - principals: ["spiffe://example.org/*"]\n',
            '    to:\n',
            '      - paths: ["/a/**"]\n',
            '        methods: [GET]\n',
            '{',
            '}',
            '[',
            ']',
            ':',
            '- ',
            '&a',
            '*a',
            '!!',
            '<<: *a',
            '\n',
            '  ',
            '"',
            "'",
            '#',
          ],
          8,
          16 * 1024,
        ),
        fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
        fc.integer({ min: 1, max: 3000 }).map((n) => `${'- '.repeat(n)}x`),
        fc
          .integer({ min: 1, max: 60 })
          .map(
            (n) =>
              `a: &a [x]\n${Array.from({ length: n }, (_, i) => `b${i}: &b${i} [*${i === 0 ? 'a' : `b${i - 1}`}, *${i === 0 ? 'a' : `b${i - 1}`}]`).join('\n')}`,
          ),
      ),
      run(input) {
        typed(() => loadPolicy(input as string))
      },
      msPerKiB: 50,
    },
    {
      id: 'http-path',
      name: 'normalizeHttpPath',
      arbitrary: textFrom(shape, [
        '/',
        '.',
        '..',
        '%2e',
        '%2E',
        '%2f',
        '%2F',
        '%25',
        '%',
        '%0',
        'a',
        '?',
        '#',
        '//',
        '\\',
        'é',
        ';',
        '\u0000',
        '~',
      ]),
      run(input) {
        typed(() => normalizeHttpPath(input as string))
      },
    },
  ]
}
