/**
 * The platform's send API fails half the time for a while, then recovers. The channel's circuit
 * breaker opens (sends then fail at once instead of hammering the platform), the outbound jobs
 * back off and retry, and once the platform is healthy every reply lands, each once and in its
 * conversation's order.
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

const MESSAGES = 400;
const FLAKY_MS = 5000;

const SETTINGS = `queue:
  partitions: 8
  backoff: 100ms
  outboundAttempts: 20
  lockDuration: 3s
  partitionLease: 2s
breaker:
  consecutiveFailures: 4
  halfOpenAfter: 500ms
`;

describe('chaos: a flaky platform', () => {
  let cluster: ChaosCluster;
  let worker: HubChild;
  beforeAll(async () => {
    cluster = await startChaosCluster({ workflows: { 'echo.yaml': ECHO }, settingsYaml: SETTINGS });
    await cluster.spawn('ingress');
    worker = await cluster.spawn('worker');
    for (let i = 0; i < 200 && (await cluster.liveWorkers()) < 1; i++) await sleep(100);
  });
  afterAll(() => cluster?.stop());

  it('50% of sends fail for a while: the breaker opens, jobs back off, all replies land once', async () => {
    const { platform } = cluster;
    platform.setFailureRate(0.5);
    const recovered = sleep(FLAKY_MS).then(() => platform.setFailureRate(0));
    const load = await sendLoad({
      ingress: () => cluster.ingressUrls(),
      channelId: CHANNEL_ID,
      token: TOKEN,
      messages: MESSAGES,
      conversations: 50,
      concurrency: 8,
      idPrefix: 'flaky',
    });
    await recovered;
    await waitForReplies(platform, load, 90_000);
    await sleep(1500);
    const retried = await scrape(worker.url, 'switchboard_outbound_deliveries_total', {
      channel: 'loopback',
      result: 'retry',
    });
    const dead = await scrape(worker.url, 'switchboard_outbound_deliveries_total', {
      channel: 'loopback',
      result: 'dead',
    });
    const opened = (
      worker.proc
        .output()
        .match(
          /circuit breaker state changed[^\n]*"state":"open"|"state":"open"[^\n]*circuit breaker state changed/g,
        ) ?? []
    ).length;
    const line = report('flaky-platform', load, platform, echoed, {
      failedSends: platform.failed,
      retriedSends: retried,
      breakerOpened: opened,
    });

    expect(platform.failed).toBeGreaterThan(0);
    expect(opened).toBeGreaterThan(0);
    expect(retried).toBeGreaterThan(0);
    expect(dead).toBe(0);
    expect(line.lost).toBe(0);
    expect(line.duplicated).toBe(0);
    expect(line.resent).toBe(0);
    expect(line.mismatched).toBe(0);
    // Retried replies are not overtaken by later replies of their conversation.
    expect(line.outOfOrder).toBe(0);
    // Closed again once the platform answers.
    expect(
      await scrape(worker.url, 'switchboard_breaker_open', { target: `channel:loopback:${CHANNEL_ID}` }),
    ).toBe(0);
  });
});
