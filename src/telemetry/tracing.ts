/**
 * Tracing switch. With `OTEL_EXPORTER_OTLP_ENDPOINT` set, `startTracing` loads the OpenTelemetry
 * SDK (dynamically: a hub without it never even reads the SDK's modules), registers a tracer
 * provider with W3C propagation and an async-local context, exports spans in batches over
 * OTLP/HTTP and traces outgoing HTTP calls. Unset, it returns a no-op handle and the API stays
 * the no-op it is by default.
 *
 * The provider is process-global; several hubs in one process (tests) share one, counted.
 */
import type { Logger } from 'pino';

export interface TracingOptions {
  /** OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<endpoint>/v1/traces`. */
  endpoint?: string;
  serviceName: string;
  /** Process role, a resource attribute so spans can be told apart by role. */
  role: string;
  logger: Logger;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Flush pending spans and unregister (the last user of a shared provider does it). */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, shutdown: async () => {} };

/** Whether a hub in this process started tracing (wrappers stay out of the way otherwise). */
export function tracingEnabled(): boolean {
  return shared !== undefined;
}

let shared: { users: number; shutdown: Promise<() => Promise<void>> } | undefined;

export async function startTracing(opts: TracingOptions): Promise<Tracing> {
  const { endpoint } = opts;
  if (!endpoint) return OFF;
  // A promise, so hubs starting at the same time in one process (tests) register once.
  shared ??= { users: 0, shutdown: registerProvider({ ...opts, endpoint }) };
  const current = shared;
  current.users++;
  try {
    await current.shutdown;
  } catch (err) {
    if (shared === current) shared = undefined;
    throw err;
  }
  let done = false;
  return {
    enabled: true,
    async shutdown() {
      if (done) return;
      done = true;
      if (--current.users > 0) return;
      if (shared === current) shared = undefined;
      const shutdown = await current.shutdown;
      await shutdown().catch((err: unknown) => opts.logger.warn({ err }, 'tracing shutdown failed'));
    },
  };
}

/** OTLP/HTTP traces URL of a collector base URL, as the OpenTelemetry spec derives it. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

async function registerProvider(opts: TracingOptions & { endpoint: string }): Promise<() => Promise<void>> {
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    semconv,
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const { traceHttpClients } = await import('./http-client-spans.ts');
  const url = tracesUrl(opts.endpoint);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: opts.serviceName,
      'service.instance.id': `${process.pid}`,
      'switchboard.role': opts.role,
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  provider.register();
  const untraceClients = traceHttpClients({ ignoreOrigin: new URL(url).origin });
  opts.logger.info({ url }, 'tracing on: exporting spans over OTLP/HTTP');
  return async () => {
    untraceClients();
    await provider.shutdown();
    // Back to the no-op API, so a later start in this process (tests) can register again.
    const api = await import('@opentelemetry/api');
    api.trace.disable();
    api.context.disable();
    api.propagation.disable();
  };
}
