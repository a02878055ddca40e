// `to`: HTTP methods and paths (canonicalised under the router's routing) and gRPC methods.
import type { Test } from './compiled-policy.js'
import { GRPC, HTTP } from './compiled-policy.js'
import { foldPath, normalizeHttpPath } from './normalize-http-path.js'
import { and, type PolicyCompiler } from './policy-compiler.js'
import type { JsonPath } from './policy-problems.js'
import {
  compileForms,
  compileHttpPathTemplate,
  type MatchForm,
  parseMatchForm,
  type StringTest,
} from './string-match.js'

const HTTP_KEYS = ['methods', 'notMethods', 'paths', 'notPaths'] as const
const GRPC_KEYS = ['grpcMethods', 'notGrpcMethods'] as const
const METHOD_TOKEN = /^[A-Z][A-Z0-9_-]*$/
const GRPC_METHOD = /^\/[^/\s]+\/[^/\s]+$/

export function compileOperation(
  cx: PolicyCompiler,
  op: Record<string, readonly string[] | undefined>,
  path: JsonPath,
  lenient: boolean,
): { test: Test; kind: number; methods: readonly string[] | null } | undefined {
  const isHttp = HTTP_KEYS.some((k) => op[k] !== undefined)
  const isGrpc = GRPC_KEYS.some((k) => op[k] !== undefined)
  if (isHttp && isGrpc) {
    cx.problems.error(
      'invalid',
      path,
      'an operation is either HTTP (methods, paths) or gRPC (grpcMethods), not both; use two entries',
    )
    return undefined
  }
  if (!isHttp && !isGrpc) {
    cx.problems.error(
      'invalid',
      path,
      'an operation needs at least one field (methods, paths or grpcMethods)',
    )
    return undefined
  }
  const tests: Test[] = []
  if (isGrpc) {
    if (op.grpcMethods) {
      const t = compileGrpcMethods(cx, op.grpcMethods, [...path, 'grpcMethods'])
      tests.push((ctx) => t(ctx.method))
    }
    if (op.notGrpcMethods) {
      const t = compileGrpcMethods(cx, op.notGrpcMethods, [...path, 'notGrpcMethods'])
      tests.push((ctx) => !t(ctx.method))
    }
    const all = and(tests)
    return { test: (ctx) => ctx.kind === 'grpc' && all(ctx), kind: GRPC, methods: null }
  }
  let methods: readonly string[] | null = null
  if (op.methods) {
    const t = compileMethods(cx, op.methods, [...path, 'methods'])
    tests.push(t.test)
    methods = t.methods
  }
  if (op.notMethods) {
    const t = compileMethods(cx, op.notMethods, [...path, 'notMethods'])
    tests.push((ctx) => !t.test(ctx))
  }
  // DENY and AUDIT path conditions also hold when they hold for the handler's own path (a route
  // template without parameters), so that a router quirk svidkit does not model never skips them.
  if (op.paths) {
    const t = compilePaths(cx, op.paths, [...path, 'paths'])
    tests.push(
      lenient
        ? (ctx) => !ctx.pathNormal || t(ctx.path) || (ctx.route !== undefined && t(ctx.route))
        : (ctx) => ctx.pathNormal && t(ctx.path),
    )
  }
  if (op.notPaths) {
    const t = compilePaths(cx, op.notPaths, [...path, 'notPaths'])
    tests.push(
      lenient
        ? (ctx) => !ctx.pathNormal || !t(ctx.path) || (ctx.route !== undefined && !t(ctx.route))
        : (ctx) => ctx.pathNormal && !t(ctx.path),
    )
  }
  const all = and(tests)
  return { test: (ctx) => ctx.kind === 'http' && all(ctx), kind: HTTP, methods }
}

export function compileMethods(
  cx: PolicyCompiler,
  values: readonly string[],
  path: JsonPath,
): { test: Test; methods: readonly string[] | null } {
  if (values.includes('*')) return { test: () => true, methods: null }
  values.forEach((m, i) => {
    if (!METHOD_TOKEN.test(m)) {
      cx.problems.error('invalid', [...path, i], `"${m}" is not an upper-case HTTP method (e.g. GET) or "*"`)
    }
  })
  const set = new Set(values)
  if (cx.routing.headAsGet && set.has('GET')) set.add('HEAD')
  return { test: (ctx) => set.has(ctx.method), methods: [...set] }
}

export function compilePaths(cx: PolicyCompiler, values: readonly string[], path: JsonPath): StringTest {
  const forms: MatchForm[] = []
  const templates: StringTest[] = []
  values.forEach((raw, i) => {
    const p = [...path, i]
    if (raw.includes('{')) {
      const t = compileHttpPathTemplate(foldPath(raw, cx.routing, true))
      if (typeof t === 'string') cx.problems.error('invalid', p, t)
      else {
        const n = normalizeHttpPath(raw.replace(/\{\*\*?\}/g, 'x'))
        if (!n.normal) cx.problems.error('invalid', p, `path template is not in normal form: ${n.problem}`)
        templates.push(t)
      }
      return
    }
    const f = parseMatchForm(raw)
    if (typeof f === 'string') {
      cx.problems.error('invalid', p, f)
      return
    }
    if (f.kind === 'exact' || f.kind === 'prefix') {
      if (!f.value.startsWith('/')) {
        cx.problems.error('invalid', p, `path "${raw}" must start with "/" (or be a "*suffix" form)`)
        return
      }
      const n = normalizeHttpPath(f.value)
      if (!n.normal || n.path.includes('?') || n.path.includes('#')) {
        cx.problems.error(
          'invalid',
          p,
          `path "${raw}" is not in normal form${n.problem ? `: ${n.problem}` : ''}`,
        )
        return
      }
      // Folded like request paths; a prefix keeps its trailing slash ("below /orders/").
      forms.push({ kind: f.kind, value: foldPath(n.path, cx.routing, f.kind === 'exact') })
    } else if (f.kind === 'suffix')
      forms.push({ kind: 'suffix', value: foldPath(f.value, cx.routing, false) })
    else forms.push(f)
  })
  const str = forms.length > 0 ? compileForms(forms) : undefined
  if (templates.length === 0) return str ?? (() => false)
  return (v) => {
    if (str?.(v)) return true
    for (const t of templates) if (t(v)) return true
    return false
  }
}

export function compileGrpcMethods(
  cx: PolicyCompiler,
  values: readonly string[],
  path: JsonPath,
): StringTest {
  const forms: MatchForm[] = []
  values.forEach((raw, i) => {
    const p = [...path, i]
    const f = parseMatchForm(raw)
    if (typeof f === 'string' || raw.includes('{')) {
      cx.problems.error(
        'invalid',
        p,
        `"${raw}" is not a gRPC method pattern: use "/pkg.Service/Method", "/pkg.Service/*" or "*"`,
      )
      return
    }
    if (f.kind === 'exact' && !GRPC_METHOD.test(f.value)) {
      cx.problems.error('invalid', p, `"${raw}" is not a full gRPC method name ("/pkg.Service/Method")`)
      return
    }
    if (f.kind === 'prefix' && !f.value.startsWith('/')) {
      cx.problems.error('invalid', p, `"${raw}" must start with "/" (e.g. "/pkg.Service/*")`)
      return
    }
    forms.push(f)
  })
  return compileForms(forms)
}
