/**
 * The same webhook delivered three times at once, and once more after its jobs were removed from
 * Redis: one reply per message. Concurrent copies meet the pending dedupe marker (503, the
 * platform retries); later copies meet the accepted marker, which outlives the job by days.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundQueueName, outboundQueueName } from '../../src/queue/names.ts';
import {
  CHANNEL_ID,
  type ChaosCluster,
  type HubChild,
  startChaosCluster,
  TOKEN,
} from '../fakes/chaos-cluster.ts';
import {
  deliver,
  inboundIdOf,
  type LoadResult,
  report,
  sleep,
  waitForReplies,
  webhookPayload,
} from '../fakes/chaos-load.ts';
import { scrape } from '../fakes/chaos-metrics.ts';
import { ECHO, echoed } from './workflows.ts';

const MESSAGES = 150;
const PARTITIONS = 8;

describe('chaos: duplicate webhooks', () => {
  let cluster: ChaosCluster;
  let ingress: HubChild;
  beforeAll(async () => {
    cluster = await startChaosCluster({ workflows: { 'echo.yaml': ECHO } });
    ingress = await cluster.spawn('ingress');
    await cluster.spawn('worker');
    for (let i = 0; i < 200 && (await cluster.liveWorkers()) < 1; i++) await sleep(100);
  });
  afterAll(() => cluster?.stop());

  it('3 concurrent deliveries, then a 4th after the jobs are gone: one reply each', async () => {
    const opts = { ingress: () => cluster.ingressUrls(), channelId: CHANNEL_ID, token: TOKEN };
    const shape = { idPrefix: 'dup', conversations: 30 };
    const load: LoadResult = {
      sentAt: new Map(),
      texts: new Map(),
      acceptedAt: new Map(),
      chats: new Map(),
      retries: {},
    };
    const all: Promise<number>[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const payload = webhookPayload(shape, i);
      const id = inboundIdOf(CHANNEL_ID, payload.message_id);
      load.sentAt.set(id, performance.now());
      load.texts.set(id, payload.text);
      for (let copy = 0; copy < 3; copy++) all.push(deliver(opts, payload, load.retries));
      if (i % 10 === 9) await Promise.all(all.splice(0));
    }
    await Promise.all(all);
    await waitForReplies(cluster.platform, load, 60_000);

    // Remove every finished job, so BullMQ's own job-id dedupe cannot help any more.
    let removed = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      for (const name of [inboundQueueName(p), outboundQueueName(p)]) {
        const queue = new Queue(name, { connection: cluster.redis, prefix: cluster.prefix });
        removed += (await queue.clean(0, 100_000, 'completed')).length;
        await queue.close();
      }
    }
    for (let i = 0; i < MESSAGES; i++) await deliver(opts, webhookPayload(shape, i), load.retries);
    await sleep(3000); // time for a wrong second reply to arrive
    const duplicates = await scrape(ingress.url, 'switchboard_inbound_messages_total', {
      channel: 'loopback',
      outcome: 'duplicate',
    });
    const queued = await scrape(ingress.url, 'switchboard_inbound_messages_total', {
      channel: 'loopback',
      outcome: 'queued',
    });
    const line = report('duplicate-webhooks', load, cluster.platform, echoed, {
      deliveries: MESSAGES * 4,
      removedJobs: removed,
      queued,
      duplicates,
    });

    expect(removed).toBeGreaterThanOrEqual(MESSAGES);
    expect(queued).toBe(MESSAGES);
    expect(duplicates).toBe(MESSAGES * 3);
    expect(line.lost).toBe(0);
    expect(line.duplicated).toBe(0);
    expect(line.resent).toBe(0);
    expect(line.mismatched).toBe(0);
  });
});
