// OpenTelemetry for the demo services, loaded before each of them with `node --import ./otel.mjs` when
// the demo runs with --otel (the way OpenTelemetry instruments ES modules): the SDK with the console
// exporters, and the http/https and grpc-js instrumentations, which open a server span per request.
// svidkit's decisions then show up on those spans (`svidkit.caller`, `svidkit.channel`,
// `svidkit.decision`, `svidkit.rule`, `svidkit.reason`) and in the metrics `svidkit.decisions` and
// `svidkit.decision.duration`, through @opentelemetry/api, which @svidkit/core uses when it is there.
import { register } from 'node:module'
import { metrics } from '@opentelemetry/api'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AggregationType,
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node'

// ES modules imported after this one (node:https, @grpc/grpc-js) are patched through this loader hook.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url)

const resource = resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'svidkit-demo' })
const tracing = new NodeTracerProvider({
  resource,
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
})
tracing.register()
// Metrics are exported when run.mjs asks (at the end of the demo), not on a timer.
const reader = new PeriodicExportingMetricReader({
  exporter: new ConsoleMetricExporter(),
  exportIntervalMillis: 3_600_000,
})
// Only svidkit's metrics: the instrumentations' own (request durations) are dropped to keep the output short.
const drop = (meterName) => ({ meterName, aggregation: { type: AggregationType.DROP } })
const meters = new MeterProvider({
  resource,
  readers: [reader],
  views: [drop('@opentelemetry/instrumentation-http'), drop('@opentelemetry/instrumentation-grpc')],
})
metrics.setGlobalMeterProvider(meters)

registerInstrumentations({
  instrumentations: [
    new HttpInstrumentation(),
    // The Workload API streams of the service's own sources are gRPC calls too: not traced.
    new GrpcInstrumentation({ ignoreGrpcMethods: [/^Fetch/, 'ValidateJWTSVID'] }),
  ],
})

// run.mjs sends `{ type: 'otel-flush' }` over the IPC channel before it prints the summary.
process.on('message', (m) => {
  if (m?.type !== 'otel-flush') return
  meters.forceFlush().finally(() => process.send?.({ type: 'otel-flushed' }))
})
