/**
 * Span helpers over the OpenTelemetry API. Only `@opentelemetry/api` is imported here: until
 * `startTracing` registers an SDK, every call below is the API's no-op (non-recording spans, no
 * context manager), so code can be instrumented unconditionally at no measurable cost.
 *
 * Trace context crosses queue hops as a W3C `traceparent` string in the job data.
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/** Attribute carrying the hub's own trace id (the `traceId` of logs and run records). */
export const HUB_TRACE_ID = 'switchboard.trace_id';

export const tracer = trace.getTracer('switchboard');

export type { Span } from '@opentelemetry/api';
export { SpanKind } from '@opentelemetry/api';

/**
 * Run `fn` inside a new active span (child of `parent`, else of the active context) and end it;
 * a thrown error is recorded on the span and rethrown.
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions & { parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const { parent, ...spanOptions } = options;
  return tracer.startActiveSpan(name, spanOptions, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      markFailed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Record an error on a span and mark it failed. */
export function markFailed(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** The active context as a `traceparent` header value; undefined while tracing is off. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The context a `traceparent` from job data or a header continues (the root context without one). */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

/** Trace id of the active span when it is recording, for stamping a new message's `traceId`. */
export function activeRecordingTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}

/** Set attributes on the active span, if any (routes add what they learn, e.g. the channel). */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getSpan(context.active())?.setAttributes(attributes);
}
