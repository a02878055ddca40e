import { SpiffeIdError } from '../errors/domain-errors.js'
import { validateSegment } from './grammar.js'
import type { SpiffeId } from './spiffe-id.js'
import { TrustDomain } from './trust-domain.js'

type Part =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'capture'; readonly name: string }
  | { readonly kind: 'one' }
  | { readonly kind: 'rest'; readonly name: string | undefined }

const CAPTURE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const NO_CAPTURES: Readonly<Record<string, string>> = Object.freeze({})

/**
 * A SPIFFE ID path template, the one model behind every template in svidkit: `matchPathTemplate`,
 * policy principals and identity templates (boundary captures), and the caller's `captures`.
 * Segments are literals, `{name}` (exactly one segment, captured), `{*}` (one segment, not captured)
 * or, as the last segment only, `{**}` / `{name:**}` (zero or more segments).
 *
 * @example
 * ```ts
 * const t = PathTemplate.parse('/ns/{namespace}/sa/{serviceAccount}')
 * t.captures(SpiffeId.parse('spiffe://cluster.local/ns/prod/sa/web')) // { namespace: 'prod', serviceAccount: 'web' }
 * t.test(SpiffeId.parse('spiffe://cluster.local/ns/prod')) // false
 * PathTemplate.parse('/web', { trustDomain: 'example.org' }).test(SpiffeId.parse('spiffe://other.org/web')) // false
 * ```
 */
export class PathTemplate {
  /** The template text, e.g. `/ns/{namespace}/sa/{*}`. */
  readonly template: string
  /** The trust domain IDs must belong to, when the template is restricted to one. */
  readonly trustDomain: TrustDomain | undefined
  /** The capture names, in order. */
  readonly captureNames: readonly string[]
  readonly #parts: readonly Part[]
  /** Segments before a trailing `{**}` (all of them without one). */
  readonly #fixed: number
  /** `null`: no trailing `{**}`; `undefined`: an unnamed one; a string: its capture name. */
  readonly #rest: string | undefined | null

  private constructor(template: string, parts: Part[], trustDomain: TrustDomain | undefined) {
    this.template = template
    this.trustDomain = trustDomain
    this.#parts = parts
    const last = parts[parts.length - 1]
    this.#rest = last?.kind === 'rest' ? last.name : null
    this.#fixed = this.#rest === null ? parts.length : parts.length - 1
    this.captureNames = Object.freeze(
      parts.flatMap((p) => ((p.kind === 'capture' || p.kind === 'rest') && p.name ? [p.name] : [])),
    )
    Object.freeze(this)
  }

  /**
   * Parses a template. Throws `ERR_SPIFFE_ID_TEMPLATE_INVALID` for a bad one (a segment that mixes
   * text and a placeholder, an invalid or repeated capture name, `{**}` before the end, a segment
   * that is not a valid SPIFFE ID path segment).
   *
   * @example
   * ```ts
   * PathTemplate.parse('/tenant/{tenant}/{service:**}').captureNames // ['tenant', 'service']
   * ```
   */
  static parse(template: string, options: { trustDomain?: TrustDomain | string } = {}): PathTemplate {
    const td =
      options.trustDomain === undefined
        ? undefined
        : typeof options.trustDomain === 'string'
          ? TrustDomain.parse(options.trustDomain)
          : options.trustDomain
    return new PathTemplate(template, parseParts(template), td)
  }

  /** Whether `id` matches (its trust domain, when the template has one, and its path). Allocation-free. */
  test(id: SpiffeId): boolean {
    if (this.trustDomain !== undefined && id.trustDomain.name !== this.trustDomain.name) return false
    const segs = id.segments
    const fixed = this.#fixed
    if (this.#rest === null ? segs.length !== fixed : segs.length < fixed) return false
    const parts = this.#parts
    for (let i = 0; i < fixed; i++) {
      const p = parts[i]!
      if (p.kind === 'literal' && p.value !== segs[i]) return false
    }
    return true
  }

  /** The frozen captures of `id`, or `undefined` when it does not match. */
  captures(id: SpiffeId): Readonly<Record<string, string>> | undefined {
    if (!this.test(id)) return undefined
    if (this.captureNames.length === 0) return NO_CAPTURES
    const segs = id.segments
    const out: Record<string, string> = {}
    const parts = this.#parts
    for (let i = 0; i < this.#fixed; i++) {
      const p = parts[i]!
      if (p.kind === 'capture') out[p.name] = segs[i]!
    }
    if (this.#rest) out[this.#rest] = segs.slice(this.#fixed).join('/')
    return Object.freeze(out)
  }
}

/**
 * The captures of the first template that matches `id`, or `undefined` when none does.
 *
 * @example
 * ```ts
 * const templates = ['/tenant/{tenant}/{service}', '/{service}'].map((t) => PathTemplate.parse(t))
 * firstCaptures(templates, SpiffeId.parse('spiffe://example.org/web')) // { service: 'web' }
 * ```
 */
export function firstCaptures(
  templates: readonly PathTemplate[],
  id: SpiffeId,
): Readonly<Record<string, string>> | undefined {
  for (const t of templates) {
    const c = t.captures(id)
    if (c !== undefined) return c
  }
  return undefined
}

function parseParts(template: string): Part[] {
  const bad = (why: string): never => {
    throw new SpiffeIdError('ERR_SPIFFE_ID_TEMPLATE_INVALID', `invalid path template "${template}": ${why}`)
  }
  if (typeof template !== 'string') return bad('not a string')
  if (template === '') return []
  if (!template.startsWith('/')) bad('it must start with "/"')
  const parts: Part[] = []
  const names = new Set<string>()
  const raw = template.slice(1).split('/')
  for (const [i, seg] of raw.entries()) {
    if (seg.startsWith('{') && seg.endsWith('}')) {
      const inner = seg.slice(1, -1)
      if (inner === '*') {
        parts.push({ kind: 'one' })
        continue
      }
      const isRest = inner === '**' || inner.endsWith(':**')
      const name = isRest ? (inner === '**' ? undefined : inner.slice(0, -3)) : inner
      if (isRest && i !== raw.length - 1) bad('"{**}" must be the last segment')
      if (name !== undefined) {
        if (!CAPTURE_NAME.test(name)) bad(`"${name}" is not a valid capture name`)
        if (names.has(name)) bad(`capture "${name}" appears twice`)
        names.add(name)
      }
      parts.push(isRest ? { kind: 'rest', name } : { kind: 'capture', name: name! })
      continue
    }
    if (seg.includes('{') || seg.includes('}') || seg.includes('*'))
      bad(`segment "${seg}" mixes text and a placeholder`)
    try {
      validateSegment(seg)
    } catch (err) {
      bad((err as Error).message)
    }
    parts.push({ kind: 'literal', value: seg })
  }
  return parts
}
