/**
 * kill -9 a worker process in the middle of 2,000 messages: every message still gets exactly one
 * reply. The survivor takes over the dead worker's partitions when their leases expire and runs
 * the job that was active in it again (BullMQ's stalled check); keyed writes and the delivery
 * check keep that re-run from answering twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHANNEL_ID,
  type ChaosCluster,
  type HubChild,
  startChaosCluster,
  TOKEN,
} from '../fakes/chaos-cluster.ts';
import { report, sendLoad, sleep, waitForReplies } from '../fakes/chaos-load.ts';
import { scrape } from '../fakes/chaos-metrics.ts';
import { ECHO, echoed } from './workflows.ts';

const MESSAGES = 2000;
const PARTITIONS = 8; // DEFAULT_SETTINGS

describe('chaos: a worker killed under load', () => {
  let cluster: ChaosCluster;
  let workers: HubChild[];
  beforeAll(async () => {
    cluster = await startChaosCluster({ workflows: { 'echo.yaml': ECHO } });
    await cluster.spawn('ingress');
    workers = await Promise.all([cluster.spawn('worker'), cluster.spawn('worker')]);
    // Until the two hold an equal share each, and still do a moment later: the second takes its
    // half from the first one partition at a time, and the bound on resent replies below is the
    // victim's share at the moment of the kill.
    let stableReads = 0;
    for (let i = 0; i < 300 && stableReads < 3; i++) {
      const owned = await Promise.all(workers.map((w) => scrape(w.url, 'switchboard_owned_partitions')));
      stableReads = owned.every((n) => n === PARTITIONS / workers.length) ? stableReads + 1 : 0;
      await sleep(100);
    }
    if (stableReads < 3) throw new Error('the two workers never settled on an equal share of partitions');
  });
  afterAll(() => cluster?.stop());

  it('kill -9 one of two workers mid-load: none lost, none doubled', async () => {
    expect(await cluster.liveWorkers()).toBe(2);
    const victim = workers[0]!;
    const owned = await scrape(victim.url, 'switchboard_owned_partitions');
    let repliesAtKill = -1;
    const load = await sendLoad({
      ingress: () => cluster.ingressUrls(),
      channelId: CHANNEL_ID,
      token: TOKEN,
      messages: MESSAGES,
      conversations: 100,
      concurrency: 24,
      idPrefix: 'kill',
      onAccepted: (n) => {
        if (n !== Math.floor(MESSAGES / 3)) return;
        repliesAtKill = cluster.platform.received.length;
        victim.proc.child.kill('SIGKILL');
      },
    });
    expect(await victim.exited).toBeNull(); // killed by a signal, not exited
    await waitForReplies(cluster.platform, load, 120_000);
    await sleep(1500); // a late second reply would arrive now
    const line = report('worker-kill-9', load, cluster.platform, echoed, {
      repliesAtKill,
      victimPartitions: owned,
    });

    expect(owned).toBeGreaterThan(0);
    expect(repliesAtKill).toBeLessThan(MESSAGES);
    expect(line.sent).toBe(MESSAGES);
    expect(line.lost).toBe(0);
    expect(line.duplicated).toBe(0);
    expect(line.mismatched).toBe(0);
    // Only sends in flight in the killed process — at most one per partition it owned — can go out
    // a second time (the platform drops them by idempotency key; see docs/architecture.md).
    expect(line.resent).toBeLessThanOrEqual(owned);
  });
});
