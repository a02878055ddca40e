// Istio string match forms (exact, `prefix*`, `*suffix`, `*` = present) compiled into one
// predicate per list, and HTTP path templates (`{*}`, `{**}`). Not exported from the package.

/** A compiled string-list predicate. */
export type StringTest = (value: string) => boolean

export type MatchForm =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'suffix'; readonly value: string }
  | { readonly kind: 'present' }

/** Classifies one pattern; returns a reason string for a bad one. */
export function parseMatchForm(pattern: string): MatchForm | string {
  if (pattern === '*') return { kind: 'present' }
  const first = pattern.indexOf('*')
  if (first === -1) return { kind: 'exact', value: pattern }
  if (first !== pattern.lastIndexOf('*')) return '"*" may appear only once, at the start or at the end'
  if (first === 0) return { kind: 'suffix', value: pattern.slice(1) }
  if (first === pattern.length - 1) return { kind: 'prefix', value: pattern.slice(0, -1) }
  return '"*" is only allowed at the start (suffix match) or at the end (prefix match)'
}

/** Builds one predicate from already-parsed forms: a Set for exact values, then prefixes and suffixes. */
export function compileForms(forms: readonly MatchForm[]): StringTest {
  const exact = new Set<string>()
  const prefixes: string[] = []
  const suffixes: string[] = []
  for (const f of forms) {
    if (f.kind === 'present') return (v) => v.length > 0
    if (f.kind === 'exact') exact.add(f.value)
    else if (f.kind === 'prefix') prefixes.push(f.value)
    else suffixes.push(f.value)
  }
  if (prefixes.length === 0 && suffixes.length === 0) {
    if (exact.size === 1) {
      const only = exact.values().next().value as string
      return (v) => v === only
    }
    return (v) => exact.has(v)
  }
  return (v) => {
    if (exact.has(v)) return true
    for (const p of prefixes) if (v.startsWith(p)) return true
    for (const s of suffixes) if (v.endsWith(s)) return true
    return false
  }
}

/** Compiled HTTP path template: literal segments, `{*}` (one non-empty segment), `{**}` (rest, last only). */
type PathPart = string | 1 | 2

const ONE = 1
const REST = 2

/** Parses an HTTP path template such as `/orders/{*}/items/{**}`; returns a reason for a bad one. */
export function compileHttpPathTemplate(template: string): StringTest | string {
  if (!template.startsWith('/')) return 'a path template must start with "/"'
  const raw = template.slice(1).split('/')
  const parts: PathPart[] = []
  for (const [i, seg] of raw.entries()) {
    if (seg === '{*}') parts.push(ONE)
    else if (seg === '{**}') {
      if (i !== raw.length - 1) return '"{**}" must be the last segment'
      parts.push(REST)
    } else if (seg.includes('{') || seg.includes('}') || seg.includes('*')) {
      return `segment "${seg}" mixes text and a placeholder; use a whole "{*}" or "{**}" segment`
    } else if (seg === '.' || seg === '..') {
      return 'a path template cannot contain "." or ".." segments'
    } else parts.push(seg)
  }
  return (path) => matchParts(parts, path)
}

function matchParts(parts: readonly PathPart[], path: string): boolean {
  let pos = 1 // just after the leading '/'
  const len = path.length
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    if (part === REST) return true
    if (pos > len) return false
    let end = path.indexOf('/', pos)
    if (end === -1) end = len
    if (part === ONE) {
      if (end === pos) return false
    } else if (part.length !== end - pos || !path.startsWith(part, pos)) return false
    pos = end + 1
  }
  return pos === len + 1
}
