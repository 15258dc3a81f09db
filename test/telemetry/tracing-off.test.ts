/**
 * Without OTEL_EXPORTER_OTLP_ENDPOINT, tracing costs nothing: the SDK and the exporter are never
 * loaded, spans are the API's non-recording no-ops, and jobs carry no trace context.
 */
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { currentTraceparent, inSpan } from '../../src/telemetry/spans.ts';
import { startTracing, tracesUrl } from '../../src/telemetry/tracing.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

const loadedSdkModules = () =>
  Object.keys(createRequire(import.meta.url).cache).filter((path) =>
    /@opentelemetry\/(sdk-trace|exporter-trace|resources|otlp-)/.test(path),
  );

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ workflows: { 'echo.yaml': ECHO_WORKFLOW } });
  });
  afterAll(() => t?.stop());

  it('a hub handles messages without loading the OpenTelemetry SDK', async () => {
    const { body } = await t.post('/v1/chat/create', {});
    const res = await t.post('/v1/chat/send', { session_id: body.session_id, text: 'hello', wait: true });
    expect(res.body.replies[0].text).toBe('echo: hello');
    expect(loadedSdkModules()).toEqual([]);
    const span = trace.getTracer('probe').startSpan('probe');
    expect(span.isRecording()).toBe(false);
    span.end();
  });

  it('jobs carry no traceparent', async () => {
    const { body } = await t.post('/v1/chat/create', {});
    const res = await t.post('/v1/chat/send', { session_id: body.session_id, text: 'plain', wait: true });
    expect(res.body.replies).toHaveLength(1);
    const jobs = await Promise.all(
      t.hub.queues.all().map((q) => q.getJobs(['completed', 'waiting', 'active'])),
    );
    const data = jobs.flat().map((j) => j?.data as Record<string, unknown>);
    expect(data.length).toBeGreaterThan(0);
    expect(data.filter((d) => d && 'traceparent' in d)).toEqual([]);
  });

  it('startTracing without an endpoint is a no-op handle; the helpers are no-ops', async () => {
    const tracing = await startTracing({ serviceName: 'x', role: 'all', logger: silentLogger });
    expect(tracing.enabled).toBe(false);
    await inSpan('noop', {}, async (span) => {
      expect(span.isRecording()).toBe(false);
      expect(currentTraceparent()).toBeUndefined();
    });
    await tracing.shutdown();
    expect(loadedSdkModules()).toEqual([]);
  });

  it('derives the OTLP/HTTP traces URL from the collector base URL', () => {
    expect(tracesUrl('http://otel:4318')).toBe('http://otel:4318/v1/traces');
    expect(tracesUrl('http://otel:4318/')).toBe('http://otel:4318/v1/traces');
  });
});
