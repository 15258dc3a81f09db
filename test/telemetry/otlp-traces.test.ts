/**
 * Traces end to end: an ingress and a worker process export to a fake OTLP/HTTP collector; one
 * webhook message yields spans from both processes — request, ingest, inbound job, workflow and
 * step, outbound job, the HTTP send — sharing one trace id, which is also the hub's `traceId`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO } from '../chaos/workflows.ts';
import { CHANNEL_ID, type ChaosCluster, startChaosCluster, TOKEN } from '../fakes/chaos-cluster.ts';
import { deliver, inboundIdOf, sleep } from '../fakes/chaos-load.ts';
import { type CollectedSpan, type FakeCollector, startFakeCollector } from './fake-collector.ts';

const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

describe('OpenTelemetry traces over OTLP/HTTP', () => {
  let collector: FakeCollector;
  let cluster: ChaosCluster;
  beforeAll(async () => {
    collector = await startFakeCollector();
    cluster = await startChaosCluster({ workflows: { 'echo.yaml': ECHO } });
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '200' };
    await cluster.spawn('ingress', env);
    await cluster.spawn('worker', env);
    for (let i = 0; i < 200 && (await cluster.liveWorkers()) < 1; i++) await sleep(100);
  });
  afterAll(async () => {
    await cluster?.stop();
    await collector?.close();
  });

  it('one message: spans from ingress and worker share one trace id, the hub traceId', async () => {
    const payload = { message_id: 'traced-1', chat_id: 'c-traced', text: 'trace me' };
    const inboundId = inboundIdOf(CHANNEL_ID, payload.message_id);
    await deliver({ ingress: () => cluster.ingressUrls(), channelId: CHANNEL_ID, token: TOKEN }, payload);
    for (let i = 0; i < 200 && cluster.platform.repliesTo(inboundId).length === 0; i++) await sleep(50);
    expect(cluster.platform.repliesTo(inboundId)).toHaveLength(1);

    const trace = async (): Promise<CollectedSpan[]> => {
      const ingest = collector.spans.find(
        (s) => s.name === 'ingest' && s.attributes['switchboard.message_id'] === inboundId,
      );
      return ingest ? collector.spans.filter((s) => s.traceId === ingest.traceId) : [];
    };
    let spans: CollectedSpan[] = [];
    for (let i = 0; i < 150; i++) {
      spans = await trace();
      // Batches arrive as spans end, children first: wait for the last parent, then its child.
      const outbound = spans.find((s) => /^process outbound-/.test(s.name));
      if (outbound && spans.some((s) => s.kind === SPAN_KIND.client && s.parentSpanId === outbound.spanId))
        break;
      await sleep(100);
    }
    const byName = (re: RegExp) => spans.filter((s) => re.test(s.name));
    const one = (re: RegExp) => {
      const found = byName(re);
      expect(found, `${re} in ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
      return found[0]!;
    };
    const request = one(/^POST \/webhooks\/:channel\/:channelId$/);
    const ingest = one(/^ingest$/);
    const inbound = one(/^process inbound-\d+$/);
    const workflow = one(/^workflow echo$/);
    const outbound = one(/^process outbound-\d+$/);
    const send = spans.find(
      (s) => s.kind === SPAN_KIND.client && String(s.attributes['url.full']).endsWith('/replies'),
    );
    expect(byName(/^step /).length).toBeGreaterThan(0);
    expect(send, 'the HTTP call to the platform').toBeDefined();

    // One tree across two processes, carried through the job data.
    expect(request.kind).toBe(SPAN_KIND.server);
    expect(ingest.parentSpanId).toBe(request.spanId);
    expect(inbound.parentSpanId).toBe(ingest.spanId);
    expect(workflow.parentSpanId).toBe(inbound.spanId);
    expect(outbound.parentSpanId).toBe(inbound.spanId);
    expect(send!.parentSpanId).toBe(outbound.spanId);
    expect(request.resource['switchboard.role']).toBe('ingress');
    expect(outbound.resource['switchboard.role']).toBe('worker');
    expect(request.resource['service.name']).toBe('switchboard');

    // The hub's own trace id is the OpenTelemetry trace id: logs and traces join on it.
    const traceId = ingest.traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    for (const span of [ingest, inbound, workflow, outbound])
      expect(span.attributes['switchboard.trace_id']).toBe(traceId);
    expect(collector.rejected).toBe(0);
  });
});
