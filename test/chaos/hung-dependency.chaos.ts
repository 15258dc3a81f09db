/**
 * A Dify/LLM-like dependency that accepts the connection and never answers. The workflow's `http`
 * step has a timeout and a fallback, so every visitor still gets an answer within the timeout
 * (plus queueing), the worker never piles up hung calls, and each hung request is aborted —
 * its connection closed — rather than left open.
 */
import { createServer, type Server, type Socket } from 'node:net';
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

const MESSAGES = 120;
const STEP_TIMEOUT_MS = 500;

/** Accepts TCP connections, reads the request, never answers. Counts and tracks the sockets. */
async function startHungServer(): Promise<{
  url: string;
  accepted: () => number;
  open: () => number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    accepted: () => accepted,
    open: () => sockets.size,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const workflow = (url: string) => `name: ask-ai
default: true
steps:
  - id: ask
    http:
      method: POST
      url: "${url}/v1/chat-messages"
      body: { query: "{{ message.text }}" }
    timeout: ${STEP_TIMEOUT_MS}ms
    fallback: { set: { answer: "fallback" } }
  - reply: "{{ steps.ask.body.answer | default: 'fallback' }}: {{ message.text }}"
`;

describe('chaos: a dependency that hangs', () => {
  let hung: Awaited<ReturnType<typeof startHungServer>>;
  let cluster: ChaosCluster;
  let worker: HubChild;
  beforeAll(async () => {
    hung = await startHungServer();
    cluster = await startChaosCluster({ workflows: { 'ask.yaml': workflow(hung.url) } });
    await cluster.spawn('ingress');
    worker = await cluster.spawn('worker');
    for (let i = 0; i < 200 && (await cluster.liveWorkers()) < 1; i++) await sleep(100);
  });
  afterAll(async () => {
    await cluster?.stop();
    await hung?.close();
  });

  it('every message answered by the fallback within bounded time; hung calls are cut off', async () => {
    const load = await sendLoad({
      ingress: () => cluster.ingressUrls(),
      channelId: CHANNEL_ID,
      token: TOKEN,
      messages: MESSAGES,
      conversations: 60,
      concurrency: 4,
      idPrefix: 'hang',
    });
    await waitForReplies(cluster.platform, load, 60_000);
    await sleep(1000);
    const runs = await scrape(worker.url, 'switchboard_workflow_run_seconds_count', { workflow: 'ask-ai' });
    const fallbacks = await scrape(worker.url, 'switchboard_fallbacks_total', {
      workflow: 'ask-ai',
      kind: 'http',
    });
    // Runs that ended within 5 s (a histogram bucket): all of them, though the dependency never answers.
    const within5s = await scrape(worker.url, 'switchboard_workflow_run_seconds_bucket', {
      workflow: 'ask-ai',
      le: '5',
    });
    for (let i = 0; i < 50 && hung.open() > 0; i++) await sleep(100);
    const line = report('hung-dependency', load, cluster.platform, (text) => `fallback: ${text}`, {
      stepTimeoutMs: STEP_TIMEOUT_MS,
      hungRequests: hung.accepted(),
      stillOpen: hung.open(),
      fallbacks,
    });

    expect(line.lost).toBe(0);
    expect(line.duplicated).toBe(0);
    expect(line.mismatched).toBe(0);
    expect(runs).toBe(MESSAGES);
    expect(fallbacks).toBe(MESSAGES);
    expect(within5s).toBe(MESSAGES); // no run waited on the hung dependency beyond its timeout
    expect(hung.accepted()).toBeGreaterThan(0);
    expect(hung.open()).toBe(0); // every hung call was aborted, not left dangling
    // Bounded end to end: a visitor waits about the step timeout, not for the dependency.
    expect(line.p99Ms).toBeLessThan(6000);
  });
});
