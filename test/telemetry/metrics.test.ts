/**
 * /metrics after real traffic: an ingress and a worker process (the loopback channel and a fake
 * platform), messages that are queued, duplicated and rejected, a step that falls back, a send
 * that is retried — then each metric the dashboards and alerts rely on is scraped and checked.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readQueueDepth } from '../../src/queue/queue-metrics.ts';
import {
  CHANNEL_ID,
  type ChaosCluster,
  type HubChild,
  startChaosCluster,
  TOKEN,
} from '../fakes/chaos-cluster.ts';
import { deliver, inboundIdOf, sleep } from '../fakes/chaos-load.ts';
import { type Sample, scrapeAll, sumOf } from '../fakes/chaos-metrics.ts';
import { REDIS_URL } from '../helpers/hub.ts';

const WORKFLOW = `name: careful
default: true
steps:
  - id: think
    wait: 2s
    timeout: 50ms
    fallback: { reply: "quick: {{ message.text }}" }
`;

describe('/metrics on a running hub', () => {
  let cluster: ChaosCluster;
  let ingress: HubChild;
  let worker: HubChild;
  let ingressSamples: Sample[];
  let workerSamples: Sample[];
  const opts = () => ({ ingress: () => cluster.ingressUrls(), channelId: CHANNEL_ID, token: TOKEN });

  beforeAll(async () => {
    cluster = await startChaosCluster({ workflows: { 'careful.yaml': WORKFLOW } });
    ingress = await cluster.spawn('ingress');
    worker = await cluster.spawn('worker');
    for (let i = 0; i < 200 && (await cluster.liveWorkers()) < 1; i++) await sleep(100);

    // The first sends fail (503): retried, then delivered.
    cluster.platform.setFailureRate(1);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const payload = { message_id: `metrics-${i}`, chat_id: `c-${i}`, text: `m${i}` };
      ids.push(inboundIdOf(CHANNEL_ID, payload.message_id));
      await deliver(opts(), payload);
    }
    await deliver(opts(), { message_id: 'metrics-0', chat_id: 'c-0', text: 'm0' }); // a platform retry
    await fetch(`${ingress.url}/webhooks/loopback/${CHANNEL_ID}`, {
      method: 'POST',
      headers: { 'x-loopback-token': 'wrong' },
      body: '{}',
    });
    await fetch(`${ingress.url}/webhooks/loopback/${CHANNEL_ID}`, {
      method: 'POST',
      headers: { 'x-loopback-token': TOKEN },
      body: 'not json',
    });
    for (let i = 0; i < 100 && cluster.platform.failed < 2; i++) await sleep(50);
    cluster.platform.setFailureRate(0);
    for (let i = 0; i < 300 && !ids.every((id) => cluster.platform.repliesTo(id).length > 0); i++)
      await sleep(50);

    // A job parked far in the future: queue depth must show it.
    const parked = new Queue('outbound-3', { connection: cluster.redis, prefix: cluster.prefix });
    await parked.add('parked', { probe: true }, { delay: 600_000, jobId: 'parked-probe' });
    await parked.close();
    [ingressSamples, workerSamples] = await Promise.all([scrapeAll(ingress.url), scrapeAll(worker.url)]);
  });
  afterAll(() => cluster?.stop());

  it('counts inbound messages by channel and outcome on the ingress', () => {
    const inbound = (outcome: string) =>
      sumOf(ingressSamples, 'switchboard_inbound_messages_total', { channel: 'loopback', outcome });
    expect(inbound('queued')).toBe(5);
    expect(inbound('duplicate')).toBe(1);
    expect(inbound('rejected')).toBe(2);
  });

  it('times workflow runs and steps by workflow and step kind, and counts fallbacks', () => {
    expect(
      sumOf(workerSamples, 'switchboard_workflow_run_seconds_count', { workflow: 'careful', status: 'ok' }),
    ).toBe(5);
    expect(
      sumOf(workerSamples, 'switchboard_workflow_step_seconds_count', {
        workflow: 'careful',
        kind: 'wait',
        status: 'fallback',
      }),
    ).toBe(5);
    expect(
      sumOf(workerSamples, 'switchboard_workflow_step_seconds_count', {
        workflow: 'careful',
        kind: 'reply',
        status: 'ok',
      }),
    ).toBe(5);
    expect(sumOf(workerSamples, 'switchboard_fallbacks_total', { workflow: 'careful', kind: 'wait' })).toBe(
      5,
    );
  });

  it('counts deliveries by channel and result, end-to-end latency, breaker state', () => {
    const deliveries = (result: string) =>
      sumOf(workerSamples, 'switchboard_outbound_deliveries_total', { channel: 'loopback', result });
    expect(deliveries('sent')).toBe(5);
    expect(deliveries('retry')).toBeGreaterThanOrEqual(2);
    expect(sumOf(workerSamples, 'switchboard_end_to_end_seconds_count', { channel: 'loopback' })).toBe(5);
    // Sum of latencies is positive and below the test's own duration.
    const e2e = sumOf(workerSamples, 'switchboard_end_to_end_seconds_sum', { channel: 'loopback' });
    expect(e2e).toBeGreaterThan(0);
    expect(
      workerSamples.some(
        (s) => s.name === 'switchboard_breaker_open' && s.labels.target === `channel:loopback:${CHANNEL_ID}`,
      ),
    ).toBe(true);
    expect(sumOf(workerSamples, 'switchboard_owned_partitions')).toBe(8);
  });

  it('reports queue depth per queue and state, the same from every process', () => {
    for (const samples of [ingressSamples, workerSamples]) {
      expect(sumOf(samples, 'switchboard_queue_jobs', { queue: 'outbound-3', state: 'delayed' })).toBe(1);
      expect(sumOf(samples, 'switchboard_queue_jobs', { queue: 'inbound-0', state: 'waiting' })).toBe(0);
      expect(samples.filter((s) => s.name === 'switchboard_queue_jobs').length).toBe((8 * 2 + 1) * 6);
      expect(sumOf(samples, 'switchboard_queue_scrape_ok')).toBe(1);
    }
  });

  it('exports the default process metrics', () => {
    for (const samples of [ingressSamples, workerSamples]) {
      expect(sumOf(samples, 'switchboard_process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(samples.some((s) => s.name === 'switchboard_nodejs_eventloop_lag_seconds')).toBe(true);
    }
  });

  it('reads every queue in one pipelined round trip', async () => {
    const redis = new Redis(REDIS_URL);
    await redis.ping();
    const pipeline = vi.spyOn(redis, 'pipeline');
    const direct = [vi.spyOn(redis, 'llen'), vi.spyOn(redis, 'zcard')];
    const queues = Array.from({ length: 64 }, (_, p) => `inbound-${p}`);
    const rows = await readQueueDepth({ redis, prefix: cluster.prefix, queues });
    expect(rows).toHaveLength(64 * 6);
    expect(pipeline).toHaveBeenCalledTimes(1);
    for (const spy of direct) expect(spy).not.toHaveBeenCalled();
    redis.disconnect();
  });
});
