// A small strict JSON parser for trust material: it rejects duplicate object keys (SPIFFE bundle
// maps MUST be rejected when a trust domain appears twice, Trust Domain and Bundle §5.1.1) and keeps
// integers beyond 2^53 exact as `bigint` (spiffe_sequence is a 64-bit integer, §4.1.1).
// JSON.parse can do neither on Node 20. Not exported from the package.

/** A JSON value where unsafe integers are `bigint`. */
export type StrictJson =
  | null
  | boolean
  | number
  | bigint
  | string
  | StrictJson[]
  | { [key: string]: StrictJson }

/** Thrown for malformed JSON or a duplicate key; `path` locates the problem. */
export class StrictJsonError extends Error {
  constructor(
    message: string,
    readonly kind: 'syntax' | 'duplicate',
  ) {
    super(message)
  }
}

const MAX_DEPTH = 64

export function parseJsonStrict(text: string): StrictJson {
  let i = 0
  const err = (msg: string, kind: 'syntax' | 'duplicate' = 'syntax'): never => {
    throw new StrictJsonError(`${msg} at offset ${i}`, kind)
  }
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
      else break
    }
  }
  const str = (): string => {
    // i points at the opening quote
    const start = i
    i++
    let simple = true
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 0x22) break
      if (c === 0x5c) {
        simple = false
        i += 2
        continue
      }
      if (c < 0x20) err('control character in string')
      i++
    }
    if (i >= text.length) err('unterminated string')
    i++
    const raw = text.slice(start, i)
    if (simple) return raw.slice(1, -1)
    try {
      return JSON.parse(raw) as string
    } catch {
      return err('invalid string escape')
    }
  }
  const num = (): number | bigint => {
    const start = i
    if (text[i] === '-') i++
    if (text[i] === '0') i++
    else if (text[i] !== undefined && text[i]! >= '1' && text[i]! <= '9')
      while (text[i]! >= '0' && text[i]! <= '9') i++
    else err('invalid number')
    let integer = true
    if (text[i] === '.') {
      integer = false
      i++
      if (!(text[i]! >= '0' && text[i]! <= '9')) err('invalid number')
      while (text[i]! >= '0' && text[i]! <= '9') i++
    }
    if (text[i] === 'e' || text[i] === 'E') {
      integer = false
      i++
      if (text[i] === '+' || text[i] === '-') i++
      if (!(text[i]! >= '0' && text[i]! <= '9')) err('invalid number')
      while (text[i]! >= '0' && text[i]! <= '9') i++
    }
    const raw = text.slice(start, i)
    const n = Number(raw)
    if (integer && !Number.isSafeInteger(n)) return BigInt(raw)
    return n
  }
  const value = (depth: number): StrictJson => {
    if (depth > MAX_DEPTH) err('nesting too deep')
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const obj: { [key: string]: StrictJson } = Object.create(null)
      ws()
      if (text[i] === '}') {
        i++
        return obj
      }
      for (;;) {
        ws()
        if (text[i] !== '"') err('expected a key')
        const key = str()
        if (Object.hasOwn(obj, key)) err(`duplicate key "${key.slice(0, 100)}"`, 'duplicate')
        ws()
        if (text[i] !== ':') err('expected ":"')
        i++
        obj[key] = value(depth + 1)
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return obj
        }
        err('expected "," or "}"')
      }
    }
    if (c === '[') {
      i++
      const arr: StrictJson[] = []
      ws()
      if (text[i] === ']') {
        i++
        return arr
      }
      for (;;) {
        arr.push(value(depth + 1))
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return arr
        }
        err('expected "," or "]"')
      }
    }
    if (c === '"') return str()
    if (c === 't' && text.startsWith('true', i)) {
      i += 4
      return true
    }
    if (c === 'f' && text.startsWith('false', i)) {
      i += 5
      return false
    }
    if (c === 'n' && text.startsWith('null', i)) {
      i += 4
      return null
    }
    return num()
  }
  const result = value(0)
  ws()
  if (i !== text.length) err('unexpected trailing data')
  return result
}

/** Narrowing helper: a plain JSON object. */
export function isJsonObject(v: StrictJson | undefined): v is { [key: string]: StrictJson } {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
