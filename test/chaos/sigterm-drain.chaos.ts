/**
 * SIGTERM to a worker and to an ingress in the middle of a load (a rolling deploy): each drains
 * and exits 0 — the ingress finishes the requests it has, the worker its in-flight jobs and their
 * replies, then hands its partitions over — and no message is lost or answered twice.
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
import { ECHO, echoed } from './workflows.ts';

const MESSAGES = 800;

describe('chaos: SIGTERM under load', () => {
  let cluster: ChaosCluster;
  let ingresses: HubChild[];
  let workers: HubChild[];
  beforeAll(async () => {
    cluster = await startChaosCluster({ workflows: { 'echo.yaml': ECHO } });
    ingresses = [await cluster.spawn('ingress'), await cluster.spawn('ingress')];
    workers = [await cluster.spawn('worker'), await cluster.spawn('worker')];
    for (let i = 0; i < 200 && (await cluster.liveWorkers()) < 2; i++) await sleep(100);
  });
  afterAll(() => cluster?.stop());

  it('one ingress and one worker drain and exit 0; none lost, none doubled', async () => {
    let exits: Promise<(number | null)[]> | undefined;
    let repliesAtSignal = -1;
    const load = await sendLoad({
      ingress: () => cluster.ingressUrls(),
      channelId: CHANNEL_ID,
      token: TOKEN,
      messages: MESSAGES,
      conversations: 80,
      concurrency: 16,
      idPrefix: 'term',
      onAccepted: (n) => {
        if (n !== Math.floor(MESSAGES / 3)) return;
        repliesAtSignal = cluster.platform.received.length;
        const stopping = [ingresses[0]!, workers[0]!];
        for (const hub of stopping) hub.proc.child.kill('SIGTERM');
        exits = Promise.all(stopping.map((hub) => hub.exited));
      },
    });
    const codes = await exits;
    await waitForReplies(cluster.platform, load, 90_000);
    await sleep(1500);
    const line = report('sigterm-drain', load, cluster.platform, echoed, {
      repliesAtSignal,
      exitCodes: codes,
    });

    expect(
      codes,
      `${ingresses[0]!.proc.output().slice(-1500)}\n${workers[0]!.proc.output().slice(-1500)}`,
    ).toEqual([0, 0]);
    expect(repliesAtSignal).toBeLessThan(MESSAGES);
    expect(line.lost).toBe(0);
    expect(line.duplicated).toBe(0);
    expect(line.resent).toBe(0); // a drain finishes its sends: nothing is sent again
    expect(line.mismatched).toBe(0);
    expect(await cluster.liveWorkers()).toBe(1);
  });
});
