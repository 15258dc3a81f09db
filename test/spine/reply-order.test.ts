/**
 * A conversation's replies reach the platform in order, also when an earlier one is being retried:
 * the later reply waits (`held`) instead of overtaking it — for at most `outboundOrderHold`, and
 * never behind a reply that was dead-lettered. Other conversations do not wait at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePlatform, recordingChannel, startFakePlatform } from '../fakes/recording-channel.ts';
import { eventually, FAST_QUEUE_YAML, startTestHub, type TestHub } from '../helpers/hub.ts';

const ECHO = `name: echo
default: true
steps:
  - reply: "echo: {{ message.text }}"
`;

const HOLD_MS = 4000;

describe('reply order within a conversation', () => {
  let platform: FakePlatform;
  let t: TestHub;
  beforeAll(async () => {
    platform = await startFakePlatform();
    t = await startTestHub({
      hubYaml: `channels:
  - { id: shop, type: recording, url: "${platform.url}" }
${FAST_QUEUE_YAML}  outboundAttempts: 14
  outboundOrderHold: ${HOLD_MS}ms
# One reply failing on purpose must not open the channel's circuit for the others.
breaker: { consecutiveFailures: 1000 }
`,
      workflows: { 'echo.yaml': ECHO },
      channelTypes: [recordingChannel],
    });
  });
  afterAll(async () => {
    await t?.stop();
    await platform?.close();
  });

  const say = async (buyer: string, id: string, text: string) => {
    const [outcome] = await t.hub.ingest!([
      {
        channel: 'recording',
        channelId: 'shop',
        platformMessageId: id,
        platformChatId: buyer,
        sender: { id: buyer },
        kind: 'text',
        text,
        replyTo: { chat: buyer },
      },
    ]);
    expect(outcome?.status).toBe('queued');
    return `${outcome!.id}:0`; // the key of its first reply (src/queue/reply-dispatch.ts)
  };
  const status = async (key: string) => (await t.hub.store.getDelivery(key))?.status;
  const position = (text: string) => platform.received.findIndex((r) => r.text === text);

  it('a reply waits while the one before it is retried, then follows it', async () => {
    platform.failText = /echo: first/;
    const first = await say('buyer-1', 'o-1', 'first');
    await eventually(async () => (await status(first)) === 'failed', 'the first reply to fail once');
    const second = await say('buyer-1', 'o-2', 'second');
    // Meanwhile another conversation is answered at once.
    await say('buyer-2', 'o-3', 'unrelated');
    await eventually(() => position('echo: unrelated') >= 0, 'the other conversation’s reply');
    await eventually(async () => (await status(second)) === 'held', 'the second reply to be held');
    expect(position('echo: second')).toBe(-1);

    platform.failText = undefined;
    await eventually(() => position('echo: second') >= 0, 'the second reply', 15_000);
    expect(position('echo: first')).toBeGreaterThanOrEqual(0);
    expect(position('echo: first')).toBeLessThan(position('echo: second'));
    // The platform has it before the row says so: wait for the mark.
    await eventually(async () => (await status(first)) === 'sent', 'the first reply marked sent');
    await eventually(async () => (await status(second)) === 'sent', 'the second reply marked sent');
  });

  it('a reply stops waiting after outboundOrderHold', async () => {
    platform.failText = /echo: stuck/;
    const stuck = await say('buyer-3', 'o-4', 'stuck');
    await eventually(async () => (await status(stuck)) === 'failed', 'the stuck reply to fail once');
    const askedAt = Date.now(); // the hold cannot start before the message is in
    const next = await say('buyer-3', 'o-5', 'next');
    await eventually(async () => (await status(next)) === 'held', 'the next reply to be held');

    await eventually(() => position('echo: next') >= 0, 'the next reply after the hold', HOLD_MS + 10_000);
    expect(Date.now() - askedAt).toBeGreaterThanOrEqual(HOLD_MS);
    expect(position('echo: stuck')).toBe(-1); // still failing, still retried: not delivered
    expect(await status(stuck)).not.toBe('sent');
    platform.failText = undefined;
  });
});
