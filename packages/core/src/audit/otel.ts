import { createRequire } from 'node:module'
import type { AuditEvent } from './audit-event.js'

/**
 * An OpenTelemetry attribute value.
 *
 * @example
 * ```ts
 * const attrs: Record<string, TelemetryAttributeValue> = { 'svidkit.decision': 'deny', 'svidkit.audit': ['break-glass'] }
 * span.setAttributes(attrs)
 * ```
 */
export type TelemetryAttributeValue = string | number | boolean | readonly string[]

/**
 * The part of an OpenTelemetry `Span` svidkit writes to.
 *
 * @example
 * ```ts
 * const span: TelemetrySpan = { setAttributes: (attributes) => console.log(attributes) }
 * recordDecisionTelemetry(event, { span })
 * ```
 */
export interface TelemetrySpan {
  setAttributes(attributes: Record<string, TelemetryAttributeValue>): unknown
}

/**
 * Options for {@link recordDecisionTelemetry}.
 *
 * @example
 * ```ts
 * import { trace } from '@opentelemetry/api'
 * const options: DecisionTelemetryOptions = { span: trace.getActiveSpan() }
 * recordDecisionTelemetry(createAuditEvent(input, decision, { latencyMs: elapsed() }), options)
 * ```
 */
export interface DecisionTelemetryOptions {
  /** The span to annotate. Default: the active span (`trace.getActiveSpan()`), if any. */
  span?: TelemetrySpan
}

type Attrs = Record<string, TelemetryAttributeValue>
interface Counter {
  add(value: number, attributes?: Attrs): void
}
interface Histogram {
  record(value: number, attributes?: Attrs): void
}
interface Meter {
  createCounter(name: string, options?: { description?: string; unit?: string }): Counter
  createHistogram(name: string, options?: { description?: string; unit?: string }): Histogram
}
interface OtelApi {
  metrics: { getMeterProvider(): { getMeter(name: string, version?: string): Meter } }
  trace: { getActiveSpan(): TelemetrySpan | undefined; getTracerProvider?(): unknown }
}

/**
 * Metric and attribute names, stable across versions.
 *
 * @example
 * ```ts
 * span.attributes[telemetryNames.decision] // 'allow' | 'deny'
 * ```
 */
export const telemetryNames = Object.freeze({
  meter: '@svidkit/core',
  decisionsCounter: 'svidkit.decisions',
  latencyHistogram: 'svidkit.decision.duration',
  caller: 'svidkit.caller',
  callerIssuer: 'svidkit.caller.iss',
  callerSubject: 'svidkit.caller.sub',
  channel: 'svidkit.channel',
  decision: 'svidkit.decision',
  rule: 'svidkit.rule',
  reason: 'svidkit.reason',
  audit: 'svidkit.audit',
} as const)

let api: OtelApi | null | undefined
let instruments: { provider: unknown; real: boolean; counter: Counter; histogram: Histogram } | undefined

let noopMeter: unknown

/**
 * Whether an OpenTelemetry reader would see a decision now: an active span, or a meter provider other
 * than the API's no-op one (an SDK registered). Without either, svidkit builds no telemetry at all.
 * @internal
 */
export function telemetryIsListening(): boolean {
  const a = otel()
  if (!a) return false
  try {
    return getInstruments(a).real || (tracerIsReal(a) && a.trace.getActiveSpan() !== undefined)
  } catch {
    return false
  }
}

let lastTracer: unknown
let lastTracerReal = false

/** Whether a tracer provider other than the API's no-op one is registered (checked per provider). */
function tracerIsReal(a: OtelApi): boolean {
  const provider = a.trace.getTracerProvider?.() as { getDelegate?: () => unknown } | undefined
  if (provider === undefined) return true
  const delegate = provider.getDelegate?.() ?? provider
  if (delegate !== lastTracer) {
    lastTracer = delegate
    lastTracerReal = (delegate as object).constructor?.name !== 'NoopTracerProvider'
  }
  return lastTracerReal
}

/** Loads `@opentelemetry/api` once; `null` when it is not installed or fails to load. */
function otel(): OtelApi | null {
  if (api !== undefined) return api
  try {
    const req = typeof require === 'function' ? require : createRequire(import.meta.url)
    const mod = req('@opentelemetry/api') as Partial<OtelApi>
    api = mod?.metrics && mod.trace ? (mod as OtelApi) : null
  } catch {
    api = null
  }
  return api
}

function getInstruments(a: OtelApi): { real: boolean; counter: Counter; histogram: Histogram } {
  // There is no proxy meter provider: re-create the instruments when the global provider changes.
  const provider = a.metrics.getMeterProvider()
  if (instruments?.provider !== provider) {
    const meter = provider.getMeter(telemetryNames.meter)
    // The API hands out its no-op provider until an SDK registers one.
    noopMeter ??= (a as { createNoopMeter?: () => unknown }).createNoopMeter?.()
    instruments = {
      provider,
      real: noopMeter === undefined || (meter as object).constructor !== (noopMeter as object).constructor,
      counter: meter.createCounter(telemetryNames.decisionsCounter, {
        description: 'Authorization decisions, by decision and channel',
      }),
      histogram: meter.createHistogram(telemetryNames.latencyHistogram, {
        description: 'Time spent deciding authorization',
        unit: 'ms',
      }),
    }
  }
  return instruments
}

/**
 * Reports a decision to OpenTelemetry through `@opentelemetry/api` (an optional peer dependency,
 * loaded once on first use): span attributes `svidkit.caller` (or `svidkit.caller.iss` /
 * `svidkit.caller.sub`), `svidkit.channel`, `svidkit.decision`, `svidkit.rule`, `svidkit.reason`,
 * `svidkit.audit` on the active span; the counter `svidkit.decisions` and the histogram
 * `svidkit.decision.duration` (ms), both with `svidkit.decision` and `svidkit.channel`.
 *
 * A no-op when the API is not installed or no SDK is registered; it never throws.
 *
 * @example
 * ```ts
 * recordDecisionTelemetry(createAuditEvent(input, decision, { latencyMs: elapsed() }))
 * ```
 */
export function recordDecisionTelemetry(event: AuditEvent, options: DecisionTelemetryOptions = {}): void {
  try {
    const a = otel()
    const span = options.span ?? a?.trace.getActiveSpan()
    if (span) {
      const attrs: Attrs = {
        [telemetryNames.channel]: event.channel ?? 'none',
        [telemetryNames.decision]: event.decision,
        [telemetryNames.reason]: event.reason,
      }
      if (typeof event.caller === 'string') attrs[telemetryNames.caller] = event.caller
      else if (event.caller !== null) {
        attrs[telemetryNames.callerIssuer] = event.caller.iss
        attrs[telemetryNames.callerSubject] = event.caller.sub
      }
      if (event.rule !== null) attrs[telemetryNames.rule] = event.rule
      if (event.audit.length > 0) attrs[telemetryNames.audit] = [...event.audit]
      span.setAttributes(attrs)
    }
    if (!a) return
    const { real, counter, histogram } = getInstruments(a)
    if (!real) return
    const labels: Attrs = {
      [telemetryNames.decision]: event.decision,
      [telemetryNames.channel]: event.channel ?? 'none',
    }
    counter.add(1, labels)
    histogram.record(event.latencyMs, labels)
  } catch {
    // Telemetry must never break a request.
  }
}
