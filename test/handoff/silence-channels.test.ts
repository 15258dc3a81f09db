/**
 * The bot's silence and agent replies on a platform channel (not the web): while the queue or an
 * agent holds a conversation nothing is sent by the bot; the agent's reply leaves through the
 * channel's own outbound queue, with its retries when the platform fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePlatform, recordingChannel, startFakePlatform } from '../fakes/recording-channel.ts';
import { ADMIN_TOKEN, type ConsoleClient, conversationPath, createAgent } from '../helpers/console.ts';
import { eventually, FAST_QUEUE_YAML, startTestHub, type TestHub } from '../helpers/hub.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

const REFUND_WORKFLOW = `name: refund
priority: 50
match:
  any: [{ keywords: [refund] }]
steps:
  - handoff: { queue: after-sales, reason: "refund: {{ message.text }}", reply: "A colleague will take over." }
`;

describe('silence and agent replies on a platform channel', () => {
  let t: TestHub;
  let platform: FakePlatform;
  let alice: ConsoleClient;
  let seq = 0;
  const chat = 'buyer-9';
  const conversationId = `recording:shop:${chat}`;
  const say = async (text: string) => {
    const [outcome] = await t.hub.ingest!([
      {
        channel: 'recording',
        channelId: 'shop',
        platformMessageId: `pm-${++seq}`,
        platformChatId: chat,
        sender: { id: chat },
        kind: 'text',
        text,
        replyTo: { chat },
      },
    ]);
    expect(outcome?.status).toBe('queued');
    const messageId = (
      await eventually(
        async () =>
          (await t.hub.store.listMessages(conversationId, { limit: 1000 })).find((m) => m.text === text),
        `"${text}" recorded`,
      )
    ).id;
    return eventually(
      async () => (await t.hub.store.listRuns({ inboundMessageId: messageId }))[0],
      `the run of "${text}"`,
    );
  };
  const texts = () => platform.received.map((r) => r.text);

  beforeAll(async () => {
    platform = await startFakePlatform();
    t = await startTestHub({
      hubYaml: `channels:\n  - { id: shop, type: recording, url: "${platform.url}" }\n  - { id: web, type: web }\n${FAST_QUEUE_YAML}\nhandoff:\n  messages: { noAgentOnline: "Nobody is online." }\n`,
      workflows: { 'echo.yaml': ECHO_WORKFLOW, 'refund.yaml': REFUND_WORKFLOW },
      channelTypes: [recordingChannel],
      database: 'pg',
      env: { ADMIN_TOKEN },
    });
    alice = await createAgent(t, 'alice');
  });
  afterAll(async () => {
    await t?.stop();
    await platform?.close();
  });

  it('bot answers, a workflow hands off, the bot is silent, the agent replies through the platform, release', async () => {
    await say('hello');
    await eventually(() => texts().includes('echo: hello'), 'the bot reply on the platform');

    expect((await say('I want a refund')).status).toBe('handoff');
    await eventually(() => texts().includes('Nobody is online.'), 'the notice');
    expect(texts()).toEqual(['echo: hello', 'A colleague will take over.', 'Nobody is online.']);
    expect(await t.hub.store.getConversation(conversationId)).toMatchObject({
      state: 'queued',
      handoffQueue: 'after-sales',
    });
    expect((await t.hub.store.listHandoffEvents(conversationId))[0]).toMatchObject({
      type: 'queued',
      actor: 'workflow:refund',
      data: { reason: 'refund: I want a refund' },
    });

    // Queued: silent. Even a hand-off keyword or the refund workflow's keyword changes nothing.
    expect((await say('hello? human?')).status).toBe('silenced');
    expect((await say('refund!!')).status).toBe('silenced');

    expect((await alice.call('POST', conversationPath(conversationId, 'claim'))).status).toBe(200);
    expect((await say('are you there')).status).toBe('silenced');
    await new Promise((r) => setTimeout(r, 200));
    expect(texts()).toHaveLength(3);

    // The platform is down when Alice answers: the reply waits in the outbound queue, retried.
    platform.mode = 'fail';
    const attempts = platform.attempts;
    const reply = await alice.call('POST', conversationPath(conversationId, 'reply'), {
      text: 'Refund approved.',
      client_msg_id: 'r-1',
    });
    expect(reply.status).toBe(202);
    await eventually(() => platform.attempts >= attempts + 2, 'retries against the failing platform');
    // Between attempts the row says `failed` (during one it briefly says `sending`).
    await eventually(
      async () => (await t.hub.store.getDelivery(`agent:${conversationId}:r-1`))?.status === 'failed',
      'the agent reply marked failed between retries',
    );
    platform.mode = 'ok';
    await eventually(() => texts().includes('Refund approved.'), 'the agent reply delivered', 15_000);
    const again = await alice.call('POST', conversationPath(conversationId, 'reply'), {
      text: 'Refund approved.',
      client_msg_id: 'r-1',
    });
    expect(again.body.duplicate).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(texts().filter((x) => x === 'Refund approved.')).toHaveLength(1);
    const stored = await t.hub.store.getMessage(reply.body.message_id);
    expect(stored).toMatchObject({ author: 'agent', direction: 'out', conversationId });
    expect((stored!.payload as { replyTo: unknown }).replyTo).toEqual({ chat });

    expect((await alice.call('POST', conversationPath(conversationId, 'release'))).status).toBe(200);
    expect((await say('hello again')).status).toBe('ok');
    await eventually(() => texts().includes('echo: hello again'), 'the bot back on the platform');
  });
});
