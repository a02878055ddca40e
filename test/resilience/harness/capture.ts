// Point 5, no secrets in logs: every line the suite can see — framework logs, svidkit's audit events
// (through a capturing logger sink), response bodies of refused requests, process warnings,
// stdout/stderr of this worker and of the agent processes — goes through `capture.line()`, which
// scans it at once (nothing is kept but counts and the first offending lines, so a soak's millions of
// lines cost no memory). `setup-capture.ts` fails every test file that leaked.
//
// A line leaks when it holds a bearer token or any JWS with its signature, a private key, or a full
// certificate (PEM armor, URL-encoded PEM, or base64 DER), or the signature of a token the suite minted.
import type { AuditLogger } from '@svidkit/core/audit'

/** Where a captured line came from. */
export type LineSource = 'framework-log' | 'audit' | 'response' | 'warning' | 'stdout' | 'stderr' | 'agent'

interface Leak {
  readonly source: LineSource
  readonly rule: string
  readonly excerpt: string
}

const RULES: readonly (readonly [string, RegExp])[] = [
  // A compact JWS: header.payload.signature (a JWT-SVID or OIDC bearer token with its signature).
  ['JWS with a signature', /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{16,}/],
  ['Bearer token', /\bBearer\s+[A-Za-z0-9\-._~+/]{20,}/i],
  // PEM armor, plain or URL-encoded (XFCC Cert, nginx $ssl_client_escaped_cert).
  ['PEM block', /-----BEGIN [A-Z0-9 ]+-----|BEGIN(%20|\+)(CERTIFICATE|[A-Z0-9%+]*PRIVATE)/],
  // Base64 DER: certificates and RSA keys start "MII", EC PKCS#8 keys "MIG" (0x30 0x81).
  ['base64 DER', /MI[IG][A-Za-z0-9+/]{80,}|MI[IG][A-Za-z0-9%]{120,}/],
]

const SIGNATURE_RUN = /[A-Za-z0-9_-]{40,}/g

export class Capture {
  #lines = 0
  #bySource = new Map<LineSource, number>()
  #leaks: Leak[] = []
  #leakCount = 0
  readonly #signatures = new Set<string>()
  #hooked = false

  /**
   * Registers a token minted by the suite: its signature must never appear in any line. The last 4096
   * are kept (the JWS rule catches any token anyway; this catches a bare signature).
   */
  secretToken(token: string): void {
    const signature = token.slice(token.lastIndexOf('.') + 1)
    if (signature.length < 40) return
    if (this.#signatures.size >= 4096) this.#signatures.delete(this.#signatures.values().next().value!)
    this.#signatures.add(signature)
  }

  /** Scans one line (or several, newline-separated). */
  line(source: LineSource, text: string): void {
    for (const l of text.split('\n')) {
      if (l === '') continue
      this.#lines++
      this.#bySource.set(source, (this.#bySource.get(source) ?? 0) + 1)
      this.#scan(source, l)
    }
  }

  #scan(source: LineSource, l: string): void {
    for (const [rule, re] of RULES) {
      const m = re.exec(l)
      if (m) {
        this.#leak(source, rule, l, m.index)
        return
      }
    }
    if (this.#signatures.size > 0) {
      for (const m of l.matchAll(SIGNATURE_RUN)) {
        if (this.#signatures.has(m[0])) {
          this.#leak(source, 'signature of a minted token', l, m.index)
          return
        }
      }
    }
  }

  #leak(source: LineSource, rule: string, l: string, at: number): void {
    this.#leakCount++
    if (this.#leaks.length < 10) {
      // Show where, not the secret itself.
      this.#leaks.push({ source, rule, excerpt: `${l.slice(Math.max(0, at - 60), at)}<secret…>` })
    }
  }

  /** A pino-compatible logger for svidkit's audit sink (`audit: { logger }`), writing JSON lines here. */
  auditLogger(): AuditLogger {
    const write = (level: string) => (obj: object, msg?: string) =>
      this.line('audit', JSON.stringify({ level, msg, ...obj }))
    return { info: write('info'), warn: write('warn') }
  }

  /** A writable-like stream for a framework logger (Fastify's pino `stream`). */
  stream(source: LineSource = 'framework-log'): { write(chunk: string): void } {
    return { write: (chunk: string) => this.line(source, chunk) }
  }

  /** Tees this worker's stdout, stderr and process warnings into the capture (once). */
  hookProcess(): void {
    if (this.#hooked) return
    this.#hooked = true
    for (const [stream, source] of [
      [process.stdout, 'stdout'],
      [process.stderr, 'stderr'],
    ] as const) {
      const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        this.line(
          source,
          typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'),
        )
        return write(chunk, ...rest)
      }) as typeof stream.write
    }
    process.on('warning', (w) => this.line('warning', `${w.name}: ${w.message}`))
  }

  /** Lines scanned so far, in all and per source. */
  stats(): { lines: number; bySource: Record<string, number>; leaks: number } {
    return { lines: this.#lines, bySource: Object.fromEntries(this.#bySource), leaks: this.#leakCount }
  }

  /** The first offending lines (excerpts up to the secret), empty when nothing leaked. */
  leaks(): readonly Leak[] {
    return this.#leaks
  }
}

/** The one capture of this test worker. */
export const capture = new Capture()
