/**
 * Failures are retried, then dead-lettered with their error, shown by `switchboard dlq list` and
 * replayed by `switchboard dlq replay` — never dropped. A visitor whose message failed for good
 * gets the apology text, not silence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { StepKind } from '../../src/workflows/index.ts';
import { type FakePlatform, recordingChannel, startFakePlatform } from '../fakes/recording-channel.ts';
import { eventually, FAST_QUEUE_YAML, REDIS_URL, startTestHub, type TestHub } from '../helpers/hub.ts';
import { runCli } from '../helpers/processes.ts';
import { openSse } from '../helpers/sse.ts';

const state = { explode: true };
const explodeKind: StepKind<Record<string, never>, unknown> = {
  kind: 'explode',
  input: z.object({}).strict().default({}),
  async run() {
    if (state.explode) throw new Error('the order system is on fire');
    return { ok: true };
  },
};

const WORKFLOW = `name: fragile
default: true
steps:
  - explode: {}
  - reply: "handled: {{ message.text }}"
`;

describe('dead letters', () => {
  let platform: FakePlatform;
  let t: TestHub;
  beforeAll(async () => {
    platform = await startFakePlatform();
    t = await startTestHub({
      hubYaml: `channels:
  - { id: web, type: web }
  - { id: shop, type: recording, url: "${platform.url}" }
${FAST_QUEUE_YAML}  inboundAttempts: 2
  outboundAttempts: 3
replies:
  apology: "Sorry — we could not handle that."
`,
      workflows: { 'fragile.yaml': WORKFLOW },
      channelTypes: [recordingChannel],
      stepKinds: [explodeKind],
    });
  });
  afterAll(async () => {
    await t?.stop();
    await platform?.close();
  });

  const cliEnv = () => ({ REDIS_URL, CONFIG_DIR: t.configDir, QUEUE_PREFIX: t.prefix, LOG_LEVEL: 'silent' });

  it('a message whose workflow keeps failing gets the apology and lands in the DLQ; replay answers it', async () => {
    state.explode = true;
    const { body } = await t.post('/v1/chat/create', {});
    const sent = await t.post('/v1/chat/send', {
      session_id: body.session_id,
      text: 'where is my parcel',
      wait: true,
    });
    expect(sent.status).toBe(200);
    expect(sent.body.replies).toMatchObject([{ role: 'system', text: 'Sorry — we could not handle that.' }]);

    const entries = await t.hub.deadLetters.list();
    const entry = entries.find((e) => e.kind === 'inbound');
    expect(entry?.error).toMatch(/on fire/);

    const listed = await runCli(['dlq', 'list'], cliEnv());
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(entry!.id);
    expect(listed.stdout).toContain('on fire');

    state.explode = false;
    const sse = await openSse(`${t.url}/v1/chat/events?session_id=${body.session_id}`);
    try {
      const replayed = await runCli(['dlq', 'replay', entry!.id], cliEnv());
      expect(replayed.stdout).toContain('replayed 1');
      const [event] = await sse.waitFor(1, (e) => e.event === 'message' && e.data.role === 'bot');
      expect(event!.data.text).toBe('handled: where is my parcel');
    } finally {
      sse.close();
    }
    expect((await t.hub.deadLetters.list()).find((e) => e.id === entry!.id)).toBeUndefined();
  });

  it('a platform asking to slow down delays the send without spending its attempts', async () => {
    state.explode = false;
    platform.mode = 'ok';
    platform.rateLimitNext = 4; // more than outboundAttempts (3)
    const [outcome] = await t.hub.ingest!([
      {
        channel: 'recording',
        channelId: 'shop',
        platformMessageId: 'slow-1',
        platformChatId: 'buyer-9',
        sender: { id: 'buyer-9' },
        kind: 'text',
        text: 'are you there',
        replyTo: { chat: 'buyer-9' },
      },
    ]);
    expect(outcome?.status).toBe('queued');
    await eventually(
      () => platform.received.some((r) => r.text === 'handled: are you there'),
      'the delayed reply',
      20_000,
    );
    expect(platform.rateLimitNext).toBe(0);
    expect((await t.hub.deadLetters.list()).filter((e) => e.conversationId.endsWith('buyer-9'))).toEqual([]);
  });

  it('a send that keeps failing is retried with backoff, dead-lettered, and delivered once on replay', async () => {
    state.explode = false;
    platform.mode = 'fail';
    const attemptsBefore = platform.attempts;
    const [outcome] = await t.hub.ingest!([
      {
        channel: 'recording',
        channelId: 'shop',
        platformMessageId: 'order-42',
        platformChatId: 'buyer-7',
        sender: { id: 'buyer-7' },
        kind: 'text',
        text: 'refund please',
        replyTo: { chat: 'buyer-7' },
      },
    ]);
    expect(outcome?.status).toBe('queued');
    const dead = await eventually(
      async () =>
        (await t.hub.deadLetters.list()).find(
          (e) => e.kind === 'outbound' && e.conversationId.endsWith('buyer-7'),
        ),
      'the reply to be dead-lettered',
      15_000,
    );
    expect(platform.attempts - attemptsBefore).toBe(3);
    expect(dead.error).toMatch(/503/);
    const replyId = (dead.data as { message: { idempotencyKey: string } }).message.idempotencyKey;
    expect((await t.hub.store.getDelivery(replyId))?.status).toBe('dead');

    platform.mode = 'ok';
    const replayed = await runCli(['dlq', 'replay', '--all'], cliEnv());
    expect(replayed.code).toBe(0);
    await eventually(
      () => platform.received.some((r) => r.text === 'handled: refund please'),
      'the replayed reply',
    );
    await eventually(
      async () => (await t.hub.store.getDelivery(replyId))?.status === 'sent',
      'delivery marked sent',
    );
    // Replaying again (e.g. an operator double-click) must not send it twice.
    await t.hub.deadLetters.add({ ...dead, jobId: `${dead.jobId}-again` });
    await t.hub.deadLetters.replay();
    await new Promise((r) => setTimeout(r, 500));
    expect(platform.received.filter((r) => r.text === 'handled: refund please')).toHaveLength(1);
  });
});
