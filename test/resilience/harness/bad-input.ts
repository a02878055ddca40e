// Point 6, bad input over real sockets: THE table, run as it is against every adapter
// (bad-input.test.ts). Each row is data: the header lines of the request (written byte for byte), who
// sends it (the trusted proxy at 127.0.0.2, with a client certificate or not), and what must come back:
// a status and an error code — the same on every adapter — and, for the rows svidkit accepts, the
// caller the handler saw. A refused row must never reach a handler.
import type { ErrorCode } from '@svidkit/core/errors'
import { ADMIN, PROXY, SELF, type StaticFixtures, WEB } from './static-fixtures.js'

export interface BadInputExpectation {
  /** HTTP status; a gRPC adapter reads it through core's status table (`code` decides). */
  readonly status: number
  /** svidkit's error code; absent for a success, and for refusals by Node's HTTP parser (431). */
  readonly code?: ErrorCode
  /** On success: the caller's SPIFFE ID the handler saw. */
  readonly caller?: string
}

export interface BadInputRow {
  readonly name: string
  readonly lines: (fx: StaticFixtures) => Promise<readonly (readonly [string, string | Buffer])[]>
  /**
   * Connect from the trusted proxy's address (127.0.0.2) presenting the proxy's X.509-SVID, or, with
   * `'address-only'`, from that address without it.
   */
  readonly fromProxy?: boolean | 'address-only'
  /** Present the web workload's client certificate (instead of the proxy's). */
  readonly withCertificate?: boolean
  readonly expect: BadInputExpectation
  /**
   * Refused by Node's HTTP parser before any framework code: adapters over other transports skip it.
   * Over TLS, Node's default `clientError` handling writes the 431 and destroys the socket at once, so
   * the client sees either the 431 or the connection closed without a response; both count as the 431.
   */
  readonly httpOnly?: boolean
  /**
   * Where a gRPC service (HTTP/2, grpc-js) sees something else than an HTTP/1 one, before svidkit runs:
   * the outcome it must give instead, `'no-answer'` (the transport refuses the stream, nothing reaches
   * a handler) or `'not-sent'` (Node's HTTP/2 client refuses to send it; the row is skipped), and why.
   */
  readonly grpc?: BadInputOverride
  /**
   * The same for a Connect service (HTTP/2 on Node's own server, no grpc-js): what HTTP/2 itself changes
   * (Node's HTTP/2 client and server), not what grpc-js drops.
   */
  readonly connect?: BadInputOverride
}

/** A transport's own outcome for a row, and why. */
export interface BadInputOverride {
  readonly expect: BadInputExpectation | 'no-answer' | 'not-sent'
  readonly why: string
}

/** The override of `row` for an adapter of `transport`, if any. */
export function overrideOf(
  row: BadInputRow,
  transport: 'http' | 'grpc' | 'connect',
): BadInputOverride | undefined {
  return transport === 'grpc' ? row.grpc : transport === 'connect' ? row.connect : undefined
}

const xfcc = (value: string | Buffer) => ['x-forwarded-client-cert', value] as const
const authorization = (value: string | Buffer) => ['authorization', value] as const
const element = (uri: string, extra = '') => `By=${SELF};${extra}URI=${uri}`
const utf8 = (text: string) => Buffer.from(text, 'utf8')

/** grpc-js drops a metadata value that is not printable ASCII before any interceptor runs. */
const GRPC_DROPS =
  'grpc-js drops a metadata value with a tab or non-ASCII bytes before any interceptor: the credential is absent'

// What HTTP/2 itself does (Node's client and server), the same for grpc-js and Connect services.
const H2_AUTHORIZATION_ONCE = {
  expect: 'not-sent',
  why: 'Node’s HTTP/2 client sends authorization once only',
} as const
const H2_JOINS_XFCC = {
  expect: { status: 401, code: 'ERR_XFCC_MULTIPLE_URIS' },
  why: 'Node’s HTTP/2 joins repeated fields with ", " into one value: the quote then closes, and the element has two URIs',
} as const
const H2_DROPS_BLANKS = {
  expect: { status: 401, code: 'ERR_CREDENTIALS_MISSING' },
  why: 'Node’s HTTP/2 server (nghttp2) drops a field value with blanks around it: the credential is absent',
} as const
const H2_HEADER_LIST_LIMIT = {
  expect: 'no-answer',
  why: 'HTTP/2 refuses the stream: the header list is over its 64 KiB limit',
} as const

const refused = (status: number, code?: ErrorCode): BadInputExpectation =>
  code === undefined ? { status } : { status, code }
const ok = (caller: string): BadInputExpectation => ({ status: 200, caller })

export const badInputRows: readonly BadInputRow[] = [
  // ── duplicate Authorization headers ───────────────────────────────────────────────────────────
  {
    name: 'two Authorization lines, both valid tokens',
    lines: async (fx) => [
      authorization(`Bearer ${await fx.token()}`),
      authorization(`Bearer ${await fx.token()}`),
    ],
    expect: refused(400, 'ERR_CREDENTIALS_MALFORMED'),
    grpc: H2_AUTHORIZATION_ONCE,
    connect: H2_AUTHORIZATION_ONCE,
  },
  {
    name: 'two Authorization lines: a valid token and another scheme',
    lines: async (fx) => [authorization(`Bearer ${await fx.token()}`), authorization('Basic dXNlcjpwYXNz')],
    expect: refused(400, 'ERR_CREDENTIALS_MALFORMED'),
    grpc: H2_AUTHORIZATION_ONCE,
    connect: H2_AUTHORIZATION_ONCE,
  },
  // ── duplicate x-forwarded-client-cert lines ───────────────────────────────────────────────────
  {
    name: 'two XFCC lines from the trusted proxy: the last element of the last line names the caller',
    fromProxy: true,
    lines: async () => [xfcc(element(ADMIN)), xfcc(element(WEB))],
    expect: ok(WEB),
  },
  {
    name: 'two XFCC lines with a quote opened in the first and closed in the second (no quote spans lines)',
    fromProxy: true,
    lines: async () => [xfcc(`${element(WEB)};Subject="CN=x`), xfcc(`y";URI=${ADMIN}`)],
    expect: refused(401, 'ERR_XFCC_MALFORMED'),
    grpc: H2_JOINS_XFCC,
    connect: H2_JOINS_XFCC,
  },
  {
    name: "XFCC from the proxy's address without the proxy's SVID (mTLS on: an address alone never vouches)",
    fromProxy: 'address-only',
    lines: async () => [xfcc(element(ADMIN))],
    expect: refused(401, 'ERR_XFCC_UNTRUSTED_PEER'),
  },
  {
    name: "XFCC from the proxy's address with another workload's SVID: that workload cannot name a caller",
    fromProxy: true,
    withCertificate: true,
    lines: async () => [xfcc(element(ADMIN))],
    expect: refused(401, 'ERR_XFCC_UNTRUSTED_PEER'),
  },
  {
    name: 'two XFCC lines from an untrusted peer',
    lines: async () => [xfcc(element(WEB)), xfcc(element(ADMIN))],
    expect: refused(401, 'ERR_XFCC_UNTRUSTED_PEER'),
  },
  // ── the case of "Bearer" ──────────────────────────────────────────────────────────────────────
  {
    name: '"bEaReR" with a valid token (the scheme is case-insensitive, RFC 9110 §11.1)',
    lines: async (fx) => [authorization(`bEaReR ${await fx.token()}`)],
    expect: ok(WEB),
  },
  {
    name: '"BEARER" with an expired token',
    lines: async (fx) => [authorization(`BEARER ${await fx.token({ ttlSeconds: -60 })}`)],
    expect: refused(401, 'ERR_JWT_SVID_EXPIRED'),
  },
  // ── whitespace around the token ───────────────────────────────────────────────────────────────
  {
    name: 'spaces and tabs around the whole value (optional whitespace, stripped by HTTP)',
    lines: async (fx) => [authorization(` \t Bearer ${await fx.token()} \t `)],
    expect: ok(WEB),
    grpc: { expect: refused(401, 'ERR_CREDENTIALS_MISSING'), why: GRPC_DROPS },
    connect: H2_DROPS_BLANKS,
  },
  {
    name: 'spaces around the whole value (stripped by HTTP/1; malformed in HTTP/2, RFC 9113 §8.2.1)',
    lines: async (fx) => [authorization(`  Bearer ${await fx.token()}  `)],
    expect: ok(WEB),
    grpc: H2_DROPS_BLANKS,
    connect: H2_DROPS_BLANKS,
  },
  {
    name: 'two spaces between "Bearer" and the token',
    lines: async (fx) => [authorization(`Bearer  ${await fx.token()}`)],
    expect: refused(400, 'ERR_CREDENTIALS_MALFORMED'),
  },
  {
    name: 'a tab between "Bearer" and the token (a malformed Bearer credential, never ignored)',
    lines: async (fx) => [authorization(`Bearer\t${await fx.token()}`)],
    expect: refused(400, 'ERR_CREDENTIALS_MALFORMED'),
    grpc: { expect: refused(401, 'ERR_CREDENTIALS_MISSING'), why: GRPC_DROPS },
  },
  {
    name: 'a space inside the token',
    lines: async (fx) => {
      const t = await fx.token()
      return [authorization(`Bearer ${t.slice(0, 20)} ${t.slice(20)}`)]
    },
    expect: refused(400, 'ERR_CREDENTIALS_MALFORMED'),
  },
  // ── oversized headers ─────────────────────────────────────────────────────────────────────────
  {
    name: 'a 12 KiB bearer token (over maxTokenBytes, 8 KiB)',
    lines: async () => [authorization(`Bearer ${'e'.repeat(12 * 1024)}`)],
    expect: refused(401, 'ERR_JWT_SVID_TOO_LARGE'),
  },
  {
    name: 'a 64 KiB XFCC header from the trusted proxy (over the 16 KiB XFCC limit)',
    fromProxy: true,
    lines: async () => [xfcc(`${element(WEB, `Subject="${'x'.repeat(64 * 1024)}";`)}`)],
    expect: refused(401, 'ERR_XFCC_TOO_LARGE'),
    grpc: H2_HEADER_LIST_LIMIT,
    connect: H2_HEADER_LIST_LIMIT,
  },
  {
    name: 'headers over the server’s maxHeaderSize, 128 KiB (Node answers 431 before any framework code)',
    lines: async () => [['x-padding', 'p'.repeat(200 * 1024)]],
    expect: refused(431),
    httpOnly: true,
  },
  // ── non-ASCII in headers ──────────────────────────────────────────────────────────────────────
  {
    name: 'UTF-8 bytes inside a bearer token',
    lines: async (fx) => [authorization(utf8(`Bearer ${(await fx.token()).slice(0, 30)}é${'a'.repeat(10)}`))],
    expect: refused(400, 'ERR_CREDENTIALS_MALFORMED'),
    grpc: { expect: refused(401, 'ERR_CREDENTIALS_MISSING'), why: GRPC_DROPS },
  },
  {
    name: 'UTF-8 bytes in an XFCC URI',
    fromProxy: true,
    lines: async () => [xfcc(utf8(element('spiffe://example.org/wéb')))],
    expect: refused(401, 'ERR_XFCC_INVALID_URI'),
    grpc: { expect: ok(PROXY), why: `${GRPC_DROPS}; the proxy's own SVID names the caller` },
  },
  {
    name: 'UTF-8 bytes in a quoted XFCC Subject (a legal DN): accepted',
    fromProxy: true,
    lines: async () => [xfcc(utf8(element(WEB, 'Subject="CN=Zürich,O=例え";')))],
    expect: ok(WEB),
    grpc: { expect: ok(PROXY), why: `${GRPC_DROPS}; the proxy's own SVID names the caller` },
  },
  // ── empty XFCC ────────────────────────────────────────────────────────────────────────────────
  {
    name: "an empty XFCC header from the proxy's address: no credentials",
    fromProxy: 'address-only',
    lines: async () => [xfcc('')],
    expect: refused(401, 'ERR_CREDENTIALS_MISSING'),
  },
  {
    name: "an empty XFCC header from the trusted proxy: the proxy's own SVID names the caller",
    fromProxy: true,
    lines: async () => [xfcc('')],
    expect: ok(PROXY),
  },
  {
    name: 'an empty XFCC header next to a valid client certificate: the certificate names the caller',
    withCertificate: true,
    lines: async () => [xfcc('')],
    expect: ok(WEB),
  },
  // ── URI= inside a quoted Subject ──────────────────────────────────────────────────────────────
  {
    name: 'a quoted Subject carrying ";URI=<admin>" next to the real URI: the real URI names the caller',
    fromProxy: true,
    lines: async () => [xfcc(element(WEB, `Subject="CN=web;URI=${ADMIN}";`))],
    expect: ok(WEB),
  },
  {
    name: 'a quoted Subject carrying ";URI=<admin>" and no URI',
    fromProxy: true,
    lines: async () => [xfcc(`By=${SELF};Subject="CN=web;URI=${ADMIN}"`)],
    expect: refused(401, 'ERR_XFCC_NO_URI'),
  },
  {
    name: 'an empty URI= and a quoted Subject carrying ",URI=<admin>"',
    fromProxy: true,
    lines: async () => [xfcc(`By=${SELF};Subject="CN=web,URI=${ADMIN}";URI=`)],
    expect: refused(401, 'ERR_XFCC_NO_URI'),
  },
]
