// Parses YAML or JSON policy text (JSON is read as YAML 1.2, so one parser gives positions for
// both) and builds a locator from JSON paths to line/column. Not exported from the package.
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from 'yaml'
import type { JsonPath, Locate, ProblemList, SourcePosition } from './policy-problems.js'

/** The parsed value and a locator, or `undefined` when the text has syntax errors (reported in `problems`). */
export interface ParsedPolicyText {
  readonly value: unknown
  readonly locate: Locate
}

/** Policies are small; refuse anything absurd before parsing. */
const MAX_POLICY_BYTES = 1024 * 1024

/**
 * Policies are shallow (about 6 levels). Deeper text is refused before the YAML parser sees it: the
 * parser recurses per level, and a stack overflow inside it can hit V8 while it compiles a regular
 * expression, which aborts the whole process ("RegExpCompiler Allocation failed"); `'['.repeat(2000)`
 * parsed twice did.
 */
const MAX_POLICY_NESTING = 128

/**
 * An upper bound of the text's nesting, in one pass: the deepest `[`/`{` flow nesting (brackets inside
 * quoted strings count too, which only over-estimates) plus the deepest block nesting of any line
 * (its indentation plus the compact `- `, `? ` and `: ` indicators that open it).
 */
function nestingEstimate(text: string): number {
  let flow = 0
  let maxFlow = 0
  let maxBlock = 0
  let lineStart = true
  let indent = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 10) {
      lineStart = true
      indent = 0
      continue
    }
    if (lineStart) {
      const next = text.charCodeAt(i + 1)
      if (c === 32 || c === 9) {
        indent++
        continue
      }
      if (
        (c === 45 || c === 63 || c === 58) &&
        (next === 32 || next === 9 || next === 10 || Number.isNaN(next))
      ) {
        indent += 2
        i++
        continue
      }
      lineStart = false
      if (indent > maxBlock) maxBlock = indent
    }
    if (c === 91 || c === 123) {
      if (++flow > maxFlow) maxFlow = flow
    } else if ((c === 93 || c === 125) && flow > 0) flow--
  }
  return maxFlow + Math.max(maxBlock, indent) / 2
}

export function parsePolicyText(text: string, problems: ProblemList): ParsedPolicyText | undefined {
  if (typeof text !== 'string') {
    problems.error('syntax', [], 'policy text must be a string')
    return undefined
  }
  if (text.length > MAX_POLICY_BYTES) {
    problems.error('syntax', [], `policy text is larger than ${MAX_POLICY_BYTES} bytes`)
    return undefined
  }
  if (nestingEstimate(text) > MAX_POLICY_NESTING) {
    problems.error('syntax', [], `policy text is nested more than ${MAX_POLICY_NESTING} levels deep`)
    return undefined
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    // Problems are reported as policy errors; the YAML library must not print warnings of its own
    // (a collection used as a key made it write to stderr through process.emitWarning).
    logLevel: 'error',
  })
  const toPos = (offset: number): SourcePosition => {
    const p = lineCounter.linePos(offset)
    return { line: p.line, column: p.col }
  }
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
      problems.add('error', 'syntax', [], `syntax error: ${msg}`, { position: toPos(e.pos[0]) })
    }
    return undefined
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: 50 })
  } catch (err) {
    problems.error('syntax', [], `syntax error: ${(err as Error).message}`)
    return undefined
  }
  const locate: Locate = (path, key) => locateNode(doc, path, key, toPos)
  return { value, locate }
}

function resolve(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node
}

function locateNode(
  doc: Document,
  path: JsonPath,
  key: boolean,
  toPos: (offset: number) => SourcePosition,
): SourcePosition | undefined {
  const start = (n: unknown): SourcePosition | undefined => {
    const range = (n as Node | null | undefined)?.range
    return range ? toPos(range[0]) : undefined
  }
  let node: unknown = resolve(doc, doc.contents)
  let keyNode: unknown
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg))
      if (!pair) return start(node)
      keyNode = pair.key
      node = resolve(doc, pair.value)
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg]
      if (item === undefined) return start(node)
      keyNode = undefined
      node = resolve(doc, item)
    } else {
      return start(node)
    }
  }
  if (key && keyNode) return start(keyNode)
  return start(node) ?? start(keyNode)
}
