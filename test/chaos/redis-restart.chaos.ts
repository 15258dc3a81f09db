/**
 * Redis dies (kill -9) and comes back on the same port under load. Ingress answers 503 while it is
 * gone, the platform retries, the AOF brings every accepted job back, and the hub processes —
 * none of them restarted — resume by themselves. A private redis-server plays the part, configured
 * as docs/operations.md asks (appendonly yes, appendfsync everysec, noeviction).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHANNEL_ID,
  type ChaosCluster,
  type HubChild,
  type PrivateRedis,
  startChaosCluster,
  startPrivateRedis,
  TOKEN,
} from '../fakes/chaos-cluster.ts';
import { report, sendLoad, sleep, waitForReplies } from '../fakes/chaos-load.ts';
import { ECHO, echoed } from './workflows.ts';

const MESSAGES = 600;

describe('chaos: Redis restart under load', () => {
  let redis: PrivateRedis;
  let cluster: ChaosCluster;
  let hubs: HubChild[];
  beforeAll(async () => {
    redis = await startPrivateRedis();
    cluster = await startChaosCluster({ workflows: { 'echo.yaml': ECHO }, redisUrl: redis.url });
    hubs = [await cluster.spawn('ingress'), await cluster.spawn('worker')];
    for (let i = 0; i < 200 && (await cluster.liveWorkers()) < 1; i++) await sleep(100);
  });
  afterAll(async () => {
    await cluster?.stop();
    await redis?.dispose();
  });

  it('kill -9 Redis mid-load, start it again: nothing lost, nothing doubled, no hub restarted', async () => {
    let outage: Promise<void> | undefined;
    let repliesAtOutage = -1;
    const downMs = 2000;
    const load = await sendLoad({
      ingress: () => cluster.ingressUrls(),
      channelId: CHANNEL_ID,
      token: TOKEN,
      messages: MESSAGES,
      conversations: 60,
      concurrency: 16,
      idPrefix: 'redis',
      onAccepted: (n) => {
        if (n !== Math.floor(MESSAGES / 3)) return;
        repliesAtOutage = cluster.platform.received.length;
        outage = (async () => {
          await redis.stop('SIGKILL');
          await sleep(downMs);
          await redis.start();
        })();
      },
    });
    await outage;
    await waitForReplies(cluster.platform, load, 90_000);
    await sleep(1500);
    const line = report('redis-restart', load, cluster.platform, echoed, { repliesAtOutage, downMs });

    expect(repliesAtOutage).toBeLessThan(MESSAGES);
    // The outage was seen: requests were refused (503) or could not connect, and were retried.
    expect(Object.values(load.retries).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(line.lost).toBe(0);
    expect(line.duplicated).toBe(0);
    expect(line.mismatched).toBe(0);
    for (const hub of hubs) expect(hub.proc.child.exitCode, hub.proc.output().slice(-2000)).toBeNull();
  });
});
