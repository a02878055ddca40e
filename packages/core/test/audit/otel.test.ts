import {
  type Context,
  type ContextManager,
  context,
  type Meter,
  type MeterProvider,
  metrics,
  ROOT_CONTEXT,
  type Span,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import {
  createAuditEvent,
  createAuditor,
  memorySink,
  recordDecisionTelemetry,
  telemetryNames,
} from '@svidkit/core/audit'
import { type AuthorizationInput, callerFromId, type Decision } from '@svidkit/core/policy'
import { afterEach, describe, expect, test } from 'vitest'

const input: AuthorizationInput = {
  caller: callerFromId('spiffe://example.org/ns/shop/sa/web', { channel: 'xfcc' }),
  self: undefined,
  operation: { kind: 'http', method: 'GET', path: '/orders' },
}
const decision: Decision = {
  decision: 'deny',
  rule: 'no-cross-tenant',
  reason: 'denied by rule "no-cross-tenant"',
  audit: ['a1'],
}

/** Synchronous context manager, enough for context.with / trace.getActiveSpan. */
class SyncContextManager implements ContextManager {
  #current: Context = ROOT_CONTEXT
  active(): Context {
    return this.#current
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const prev = this.#current
    this.#current = ctx
    try {
      return fn.call(thisArg, ...args)
    } finally {
      this.#current = prev
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target
  }
  enable(): this {
    return this
  }
  disable(): this {
    this.#current = ROOT_CONTEXT
    return this
  }
}

function fakeSpan(): Span & { attributes: Record<string, unknown> } {
  const attributes: Record<string, unknown> = {}
  const span = {
    attributes,
    spanContext: () => ({ traceId: `${'0'.repeat(31)}1`, spanId: `${'0'.repeat(15)}1`, traceFlags: 1 }),
    setAttribute: (k: string, v: unknown) => {
      attributes[k] = v
      return span
    },
    setAttributes: (a: Record<string, unknown>) => {
      Object.assign(attributes, a)
      return span
    },
    addEvent: () => span,
    addLink: () => span,
    addLinks: () => span,
    setStatus: () => span,
    updateName: () => span,
    end: () => {},
    isRecording: () => true,
    recordException: () => {},
  }
  return span as unknown as Span & { attributes: Record<string, unknown> }
}

afterEach(() => {
  metrics.disable()
  trace.disable()
  context.disable()
})

describe('OpenTelemetry', () => {
  test('with the API installed and no SDK registered, nothing breaks', () => {
    const event = createAuditEvent(input, decision, { latencyMs: 0.5 })
    expect(() => recordDecisionTelemetry(event)).not.toThrow()
    expect(() => createAuditor().record(input, decision, 0.5)).not.toThrow()
  })

  test('lazy: with no sink and no SDK or span, no event is built; a sink or a reader gets it', () => {
    expect(createAuditor().record(input, decision, 0.5)).toBeUndefined()
    expect(
      createAuditor().recordFailure(
        { operation: input.operation, self: undefined, code: 'X', reason: 'r' },
        1,
      ),
    ).toBeUndefined()
    const sink = memorySink()
    expect(createAuditor({ sink }).record(input, decision, 0.5)).toMatchObject({ decision: 'deny' })
    expect(sink.events).toHaveLength(1)
    expect(createAuditor().recording?.()).toBe(false)
    expect(createAuditor({ sink }).recording?.()).toBe(true)
  })

  test('a span made active without a tracer provider (the no-op tracer) is not a reader', () => {
    expect(context.setGlobalContextManager(new SyncContextManager())).toBe(true)
    const auditor = createAuditor()
    const span = fakeSpan()
    context.with(trace.setSpan(context.active(), span), () => {
      expect(trace.getActiveSpan()).toBe(span)
      expect(auditor.recording?.()).toBe(false)
      expect(auditor.record(input, decision, 0.1)).toBeUndefined()
    })
    expect(span.attributes).toEqual({})
    // Once a real provider is registered, the same active span is read.
    expect(trace.setGlobalTracerProvider({ getTracer: () => ({}) as Tracer })).toBe(true)
    context.with(trace.setSpan(context.active(), span), () => {
      expect(auditor.recording?.()).toBe(true)
      expect(auditor.record(input, decision, 0.1)).toMatchObject({ decision: 'deny' })
    })
    expect(span.attributes).toMatchObject({ 'svidkit.decision': 'deny' })
  })

  test('a meter provider registered through the global setter receives the counter and histogram', () => {
    const adds: [string, number, unknown][] = []
    const records: [string, number, unknown][] = []
    const meter = {
      createCounter: (name: string) => ({ add: (v: number, a: unknown) => adds.push([name, v, a]) }),
      createHistogram: (name: string, opts: { unit?: string }) => {
        expect(opts.unit).toBe('ms')
        return { record: (v: number, a: unknown) => records.push([name, v, a]) }
      },
    } as unknown as Meter
    const names: string[] = []
    const provider: MeterProvider = {
      getMeter: (name) => {
        names.push(name)
        return meter
      },
    }
    // Record once before registering: instruments must be re-created for the new provider.
    createAuditor().record(input, decision, 1)
    expect(metrics.setGlobalMeterProvider(provider)).toBe(true)
    expect(createAuditor().record(input, decision, 0.25)).toMatchObject({ decision: 'deny', latencyMs: 0.25 })
    createAuditor().record(input, { ...decision, decision: 'allow' }, 0.5)
    expect(adds).toEqual([
      ['svidkit.decisions', 1, { 'svidkit.decision': 'deny', 'svidkit.channel': 'xfcc' }],
      ['svidkit.decisions', 1, { 'svidkit.decision': 'allow', 'svidkit.channel': 'xfcc' }],
    ])
    expect(names).toEqual(['@svidkit/core'])
    expect(records).toEqual([
      ['svidkit.decision.duration', 0.25, { 'svidkit.decision': 'deny', 'svidkit.channel': 'xfcc' }],
      ['svidkit.decision.duration', 0.5, { 'svidkit.decision': 'allow', 'svidkit.channel': 'xfcc' }],
    ])
  })

  test('the active span of a tracer registered through the global setter gets the attributes', () => {
    const spans: ReturnType<typeof fakeSpan>[] = []
    const tracer = {
      startSpan: () => {
        const s = fakeSpan()
        spans.push(s)
        return s
      },
      startActiveSpan: (_name: string, fn: (span: Span) => unknown) => {
        const s = tracer.startSpan('GET /orders')
        return context.with(trace.setSpan(context.active(), s), () => fn(s))
      },
    } as unknown as Tracer
    const provider: TracerProvider = { getTracer: () => tracer }
    expect(context.setGlobalContextManager(new SyncContextManager())).toBe(true)
    expect(trace.setGlobalTracerProvider(provider)).toBe(true)
    trace.getTracer('app').startActiveSpan('GET /orders', (span) => {
      createAuditor().record(input, decision, 0.1)
      span.end()
    })
    expect(spans[0]?.attributes).toEqual({
      'svidkit.caller': 'spiffe://example.org/ns/shop/sa/web',
      'svidkit.channel': 'xfcc',
      'svidkit.decision': 'deny',
      'svidkit.rule': 'no-cross-tenant',
      'svidkit.reason': 'denied by rule "no-cross-tenant"',
      'svidkit.audit': ['a1'],
    })
  })

  test('an explicit span, OIDC callers, and telemetry: false', () => {
    const span = fakeSpan()
    const oidc = createAuditEvent(
      { ...input, caller: callerFromId({ iss: 'https://login.example.com', sub: 'alice' }) },
      { decision: 'allow', rule: null, reason: 'ok', audit: [] },
      { latencyMs: 0 },
    )
    recordDecisionTelemetry(oidc, { span })
    expect(span.attributes).toEqual({
      [telemetryNames.callerIssuer]: 'https://login.example.com',
      [telemetryNames.callerSubject]: 'alice',
      [telemetryNames.channel]: 'oidc',
      [telemetryNames.decision]: 'allow',
      [telemetryNames.reason]: 'ok',
    })
  })

  test('a throwing meter never breaks the request', () => {
    const provider = {
      getMeter: () => {
        throw new Error('broken SDK')
      },
    } as unknown as MeterProvider
    metrics.setGlobalMeterProvider(provider)
    expect(() => createAuditor().record(input, decision, 1)).not.toThrow()
  })

  test('telemetry: false skips OpenTelemetry', () => {
    let calls = 0
    metrics.setGlobalMeterProvider({
      getMeter: () => {
        calls++
        throw new Error('should not be called')
      },
    } as unknown as MeterProvider)
    createAuditor({ telemetry: false }).record(input, decision, 1)
    expect(calls).toBe(0)
  })
})
